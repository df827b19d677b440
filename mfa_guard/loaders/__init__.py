"""Loaders turn files into policy documents with source positions."""
