"""Record classes behave like the dataclasses they replace."""

import copy
import pickle
from functools import cached_property
from typing import ClassVar

import pytest

from mfa_guard.records import (
    FrozenInstanceError,
    asdict,
    field,
    fields,
    record,
    replace,
)


@record(order=True)
class Span:
    path: str
    line: int
    column: int = 1


@record
class Note:
    span: Span
    text: str
    tags: tuple[str, ...] = ()
    hidden: str = field(default="", compare=False)
    KIND: ClassVar[str] = "note"


@record(frozen=False)
class Bag:
    items: list[str] = field(default_factory=list)
    count: int = 0

    @cached_property
    def size(self) -> int:
        return len(self.items)


@record(frozen=False)
class Checked:
    value: int
    double: int = 0

    def __post_init__(self) -> None:
        self.double = self.value * 2


@record(frozen=False)
class Extended(Bag):
    name: str = "x"


def test_init_positional_and_keyword():
    assert Span("a", 2, column=3).column == 3


def test_default_used():
    assert Span("a", 2).column == 1


def test_missing_argument_rejected():
    with pytest.raises(TypeError):
        Span("a")


def test_repr_like_dataclass():
    assert repr(Span("a", 2)) == "Span(path='a', line=2, column=1)"


def test_equal_by_fields():
    assert Span("a", 2) == Span("a", 2)


def test_other_class_not_equal():
    assert Span("a", 2) != ("a", 2, 1)


def test_hash_by_fields():
    assert hash(Span("a", 2)) == hash(("a", 2, 1))


def test_order_by_fields():
    assert sorted([Span("b", 1), Span("a", 9), Span("a", 2)]) == [
        Span("a", 2),
        Span("a", 9),
        Span("b", 1),
    ]


def test_order_against_other_class_rejected():
    with pytest.raises(TypeError):
        assert Span("a", 1) < Note(Span("a", 1), "x")


def test_frozen_assignment_rejected():
    with pytest.raises(FrozenInstanceError):
        Span("a", 2).line = 3


def test_frozen_has_slots():
    assert not hasattr(Span("a", 2), "__dict__")


def test_compare_false_ignored():
    assert Note(Span("a", 1), "t", hidden="x") == Note(Span("a", 1), "t", hidden="y")


def test_class_variable_not_a_field():
    assert fields(Note) == ("span", "text", "tags", "hidden")


def test_default_factory_fresh_each_time():
    first, second = Bag(), Bag()
    first.items.append("x")
    assert second.items == []


def test_mutable_not_hashable():
    with pytest.raises(TypeError):
        hash(Bag())


def test_cached_property_on_mutable():
    assert Bag(["a", "b"]).size == 2


def test_post_init_runs():
    assert Checked(4).double == 8


def test_subclass_adds_fields():
    assert fields(Extended) == ("items", "count", "name")


def test_subclass_init():
    assert Extended(["a"], 1, "n").name == "n"


def test_replace_changes_one_field():
    assert replace(Span("a", 2), line=5) == Span("a", 5)


def test_replace_unknown_field_rejected():
    with pytest.raises(TypeError):
        replace(Span("a", 2), row=5)


def test_replace_runs_post_init():
    assert replace(Checked(1), value=3).double == 6


def test_asdict_nested():
    note = Note(Span("a", 2), "t", ("x",))
    assert asdict(note) == {
        "span": {"path": "a", "line": 2, "column": 1},
        "text": "t",
        "tags": ("x",),
        "hidden": "",
    }


@pytest.mark.parametrize("protocol", range(2, pickle.HIGHEST_PROTOCOL + 1))
def test_frozen_pickles(protocol):
    note = Note(Span("a", 2), "t", ("x",))
    assert pickle.loads(pickle.dumps(note, protocol)) == note


def test_mutable_pickles():
    assert pickle.loads(pickle.dumps(Extended(["a"], 2))) == Extended(["a"], 2)


def test_deepcopy():
    note = Note(Span("a", 2), "t")
    assert copy.deepcopy(note) == note


def test_default_before_required_rejected():
    with pytest.raises(TypeError):

        @record
        class Wrong:
            first: int = 0
            second: int


def test_match_args():
    match Span("a", 2):
        case Span(path, line):
            assert (path, line) == ("a", 2)


@record
class Explicit:
    name: str
    cache: dict[str, int] = field(default_factory=dict, init=False, repr=False)

    def __hash__(self) -> int:
        return 7


def test_field_left_out_of_init():
    assert Explicit("a").cache == {}


def test_field_left_out_of_repr():
    assert repr(Explicit("a")) == "Explicit(name='a')"


def test_explicit_hash_kept():
    assert hash(Explicit("a")) == 7


def test_replace_leaves_out_fields_outside_init():
    copy_ = replace(Explicit("a"), name="b")
    assert (copy_.name, copy_.cache) == ("b", {})


def test_replace_field_outside_init_rejected():
    with pytest.raises(TypeError):
        replace(Explicit("a"), cache={})
