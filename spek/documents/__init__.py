"""Documents: sniff the real type of an uploaded file, extract its text in blocks, cut it into chunks."""
