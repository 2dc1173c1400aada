"""Platform-neutral core: events, ports, command router, context, errors, i18n and markup.

Nothing in here knows about Telegram or Matrix; adapters translate their updates into the
events defined in :mod:`bot.core.events` and render :class:`bot.core.markup.Markup`.
"""
