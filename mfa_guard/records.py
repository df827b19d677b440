"""Value classes that are cheap to define: a small stand-in for `dataclasses`.

A one-file scan defines about 80 classes before it reads the file. The
`dataclasses` module compiles six to ten methods for each frozen class, and
importing it also imports `inspect`. Together they took about 40% of the
start-up time. `record` compiles only `__init__`, on the first call, and
builds the other methods from shared functions, so defining a class takes
a tenth of the time or less. Creating an instance is faster too, because a
frozen `__init__` writes the slots directly.

What it supports is what this code base uses:

- `@record` or `@record(order=True)`: frozen, with `__slots__`, equality,
  hashing and `repr` like `@dataclass(frozen=True, slots=True)`;
- `@record(frozen=False)`: mutable, without `__slots__` (so that
  `functools.cached_property` works), equal by fields and not hashable,
  like `@dataclass`;
- defaults, `field(default_factory=...)`, `field(compare=False)`,
  `__post_init__`, `ClassVar` annotations, and a record subclassing
  another record;
- `replace`, `fields` and `asdict`, which work like the functions of the
  same name in `dataclasses`.

Type checkers read `record` as a dataclass through `dataclass_transform`.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any, TypeVar, dataclass_transform, overload

T = TypeVar("T")

_MISSING: Any = object()


class FrozenInstanceError(AttributeError):
    """Raised on an attempt to change a field of a frozen record."""


class Field:
    """The settings of one field, as `field(...)` declares them."""

    __slots__ = ("compare", "default", "default_factory", "init", "name", "repr")

    def __init__(
        self,
        default: Any = _MISSING,
        default_factory: Any = _MISSING,
        compare: bool = True,
        init: bool = True,
        repr: bool = True,
    ) -> None:
        self.name = ""
        self.default = default
        self.default_factory = default_factory
        self.compare = compare
        self.init = init
        self.repr = repr

    def __repr__(self) -> str:
        return f"Field({self.name!r})"


def field(
    *,
    default: Any = _MISSING,
    default_factory: Callable[[], Any] = _MISSING,
    compare: bool = True,
    init: bool = True,
    repr: bool = True,
) -> Any:
    """Declare a field's default or default factory, and whether comparisons, `__init__` and `repr` use it."""
    if default is not _MISSING and default_factory is not _MISSING:
        raise ValueError("a field cannot have both a default and a default factory")
    if not init and default is _MISSING and default_factory is _MISSING:
        raise ValueError("a field left out of __init__ needs a default")
    return Field(default, default_factory, compare, init, repr)


def _is_class_variable(annotation: Any) -> bool:
    text = annotation if isinstance(annotation, str) else repr(annotation)
    return text.startswith(("ClassVar", "typing.ClassVar"))


def _own_fields(namespace: dict[str, Any]) -> list[Field]:
    found = []
    for name, annotation in namespace.get("__annotations__", {}).items():
        if _is_class_variable(annotation):
            continue
        value = namespace.pop(name, _MISSING)
        spec = value if isinstance(value, Field) else Field(default=value)
        spec.name = name
        found.append(spec)
    return found


def _inherited_fields(bases: tuple[type, ...]) -> list[Field]:
    merged: dict[str, Field] = {}
    for base in reversed(bases):
        for spec in getattr(base, "__record_fields__", ()):
            merged[spec.name] = spec
    return list(merged.values())


def _init_source(specs: list[Field], frozen: bool, post_init: bool) -> str:
    parameters = ["self"]
    body = []
    for spec in specs:
        name = spec.name
        if not spec.init:
            value = (
                f"_default_{name}"
                if spec.default is not _MISSING
                else f"_factory_{name}()"
            )
            body.append(
                f" _set_{name}(self, {value})" if frozen else f" self.{name} = {value}"
            )
            continue
        if spec.default is not _MISSING:
            parameters.append(f"{name}=_default_{name}")
        elif spec.default_factory is not _MISSING:
            parameters.append(f"{name}=_MISSING")
            body.append(f" if {name} is _MISSING: {name} = _factory_{name}()")
        else:
            parameters.append(name)
        if frozen:
            body.append(f" _set_{name}(self, {name})")
        else:
            body.append(f" self.{name} = {name}")
    if post_init:
        body.append(" self.__post_init__()")
    if not body:
        body.append(" pass")
    return f"def __init__({', '.join(parameters)}):\n" + "\n".join(body) + "\n"


def _make_init(cls: type, specs: list[Field], frozen: bool) -> Callable[..., None]:
    scope: dict[str, Any] = {"_MISSING": _MISSING}
    for spec in specs:
        if spec.default is not _MISSING:
            scope[f"_default_{spec.name}"] = spec.default
        if spec.default_factory is not _MISSING:
            scope[f"_factory_{spec.name}"] = spec.default_factory
        if frozen:
            scope[f"_set_{spec.name}"] = getattr(cls, spec.name).__set__
    source = _init_source(specs, frozen, hasattr(cls, "__post_init__"))
    exec(compile(source, f"<record {cls.__qualname__}>", "exec"), scope)
    init: Callable[..., None] = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


def _check_order(specs: list[Field]) -> None:
    seen_default = False
    for spec in specs:
        if not spec.init:
            continue
        has_default = (
            spec.default is not _MISSING or spec.default_factory is not _MISSING
        )
        if seen_default and not has_default:
            raise TypeError(
                f"field {spec.name!r} without a default follows a field with one"
            )
        seen_default = seen_default or has_default


def _deferred_init(cls: type, specs: list[Field], frozen: bool) -> Callable[..., None]:
    """Return an `__init__` that compiles the real one on the first call and installs it.

    Many classes are never instantiated in a given run (the Terraform
    classes in a JSON-only scan, say), so they never pay for compiling.
    """

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        init = _make_init(cls, specs, frozen)
        cls.__init__ = init  # type: ignore[misc]
        init(self, *args, **kwargs)

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    return __init__


def _key(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    if len(names) == 1:
        single = attrgetter(names[0])
        return lambda value: (single(value),)
    if not names:
        return lambda value: ()
    getter: Callable[[Any], tuple[Any, ...]] = attrgetter(*names)
    return getter


def _add_comparisons(
    cls: Any, key: Callable[[Any], tuple[Any, ...]], order: bool
) -> None:
    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return key(self) == key(other)

    cls.__eq__ = __eq__
    if not order:
        return

    def __lt__(self: Any, other: Any) -> Any:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return key(self) < key(other)

    def __le__(self: Any, other: Any) -> Any:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return key(self) <= key(other)

    def __gt__(self: Any, other: Any) -> Any:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return key(self) > key(other)

    def __ge__(self: Any, other: Any) -> Any:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return key(self) >= key(other)

    cls.__lt__, cls.__le__, cls.__gt__, cls.__ge__ = __lt__, __le__, __gt__, __ge__


def _repr(self: Any) -> str:
    values = ", ".join(
        f"{spec.name}={getattr(self, spec.name)!r}"
        for spec in self.__record_fields__
        if spec.repr
    )
    return f"{self.__class__.__qualname__}({values})"


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: Any, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


def _getstate(self: Any) -> tuple[Any, ...]:
    return tuple(getattr(self, spec.name) for spec in self.__record_fields__)


def _setstate(self: Any, state: tuple[Any, ...]) -> None:
    for spec, value in zip(self.__record_fields__, state, strict=True):
        object.__setattr__(self, spec.name, value)


def _build(cls: type, frozen: bool, order: bool) -> type:
    namespace = dict(cls.__dict__)
    namespace.pop("__dict__", None)
    namespace.pop("__weakref__", None)
    own = _own_fields(namespace)
    own_names = {spec.name for spec in own}
    specs = [s for s in _inherited_fields(cls.__bases__) if s.name not in own_names]
    specs.extend(own)

    if frozen:
        inherited = {
            n for base in cls.__mro__[1:] for n in getattr(base, "__slots__", ())
        }
        namespace["__slots__"] = tuple(
            spec.name for spec in own if spec.name not in inherited
        )
    else:
        for spec in own:
            if spec.default is not _MISSING:
                namespace[spec.name] = spec.default
    namespace["__match_args__"] = tuple(spec.name for spec in specs if spec.init)
    built: Any = type(cls)(cls.__name__, cls.__bases__, namespace)

    built.__record_fields__ = tuple(specs)
    _check_order(specs)
    built.__init__ = _deferred_init(built, specs, frozen)
    key = _key(tuple(spec.name for spec in specs if spec.compare))
    methods: dict[str, Any] = {"__repr__": _repr}
    if frozen:
        methods.update(
            __hash__=lambda self: hash(key(self)),
            __setattr__=_frozen_setattr,
            __delattr__=_frozen_delattr,
            __getstate__=_getstate,
            __setstate__=_setstate,
        )
    else:
        methods["__hash__"] = None
    # Methods that the class body defines are kept, as dataclasses keeps them.
    for name, method in methods.items():
        if name not in namespace:
            setattr(built, name, method)
    if "__eq__" not in namespace:
        _add_comparisons(built, key, order)
    return built  # type: ignore[no-any-return]


@overload
def record(cls: type[T], /) -> type[T]: ...


@overload
def record(
    *, frozen: bool = True, order: bool = False
) -> Callable[[type[T]], type[T]]: ...


@dataclass_transform(frozen_default=True, field_specifiers=(field, Field))
def record(
    cls: type[T] | None = None, /, *, frozen: bool = True, order: bool = False
) -> Any:
    """Make `cls` a record class: `@record`, `@record(order=True)` or `@record(frozen=False)`."""
    if cls is not None:
        return _build(cls, frozen, order)
    return lambda target: _build(target, frozen, order)


def fields(value: Any) -> tuple[str, ...]:
    """Return the field names of a record or record class, in order."""
    return tuple(spec.name for spec in value.__record_fields__)


def replace(value: T, /, **changes: Any) -> T:
    """Return a copy of the record `value` with `changes` applied, running `__post_init__` again.

    Fields left out of `__init__` take their defaults in the copy, as with
    `dataclasses.replace`, and cannot be changed.
    """
    specs = value.__record_fields__  # type: ignore[attr-defined]
    current = {spec.name: getattr(value, spec.name) for spec in specs if spec.init}
    unknown = set(changes) - set(current)
    if unknown:
        name = sorted(unknown)[0]
        raise TypeError(f"{type(value).__name__} has no field {name!r} to replace")
    current.update(changes)
    return value.__class__(**current)


def asdict(value: Any) -> Any:
    """Return a record as a dict, converting nested records, lists, tuples and dicts too."""
    if hasattr(value.__class__, "__record_fields__"):
        return {
            spec.name: asdict(getattr(value, spec.name))
            for spec in value.__record_fields__
        }
    if isinstance(value, (list, tuple)):
        return type(value)(asdict(item) for item in value)
    if isinstance(value, dict):
        return {key: asdict(item) for key, item in value.items()}
    return value
