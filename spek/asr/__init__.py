"""Speech recognition. Knows nothing of HTTP or SQL: audio in, segments and words out."""
