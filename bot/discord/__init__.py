"""Discord face of newsbot: thin cogs over the services in `bot.service`."""
