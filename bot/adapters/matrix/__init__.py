"""Matrix: matrix-nio with end-to-end encryption; rooms, direct chats, polls, reactions."""

from bot.adapters.matrix.adapter import MatrixAdapter

__all__ = ["MatrixAdapter"]
