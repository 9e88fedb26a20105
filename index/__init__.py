"""Turns news sources into articles, chunks and vectors in Chroma; knows nothing of answering or Discord."""
