"""Typed queries, one module per aggregate; handlers never write SQL."""
