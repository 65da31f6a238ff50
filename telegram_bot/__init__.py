"""The Telegram bot: one more thin edge (aiogram 3) over the services in spek/."""
