"""Job functions run by the scheduler.

Jobs take ids only (never ORM objects or chat handles) and load what they need from the database,
because the scheduler is rebuilt from the database after every restart. The scheduler itself
(APScheduler 3 on the bot's single asyncio loop, driven by the ``Clock`` port) arrives with the
reminders, meetings and polls issue.
"""
