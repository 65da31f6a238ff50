"""The transcript workspace: editing, search inside a transcript, exports."""
