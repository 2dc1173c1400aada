"""Job functions run by the scheduler.

Jobs take ids only (never ORM objects or chat handles) and load what they need from the database,
because the scheduler is rebuilt from the database after every restart. Each gets a
:class:`~bot.services.scheduler.JobRun` (the claimed row, the firing transaction, how late it
is, the batch it was claimed with and a cache for that batch) and is registered by its feature's
handler module with ``router.on.job(kind)``. A job that fails makes the scheduler run its batch
again job by job, so job functions must not act outside the transaction.
"""
