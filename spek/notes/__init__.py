"""Notes: what a transcript says, made by an LLM — title, summary, key points, tags, key phrases, sentiment."""
