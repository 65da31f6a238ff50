"""Search over everything a user has: one index of passages (notes, pages, document passages, transcript
segments), each with its text, a full-text vector kept by the database and an embedding kept by workers.
"""
