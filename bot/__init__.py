"""Turns a question into an answer with sources, over the index that `index/` builds; knows no Discord."""
