"""Chat over the user's own material: conversations, messages, and answers streamed by workers."""
