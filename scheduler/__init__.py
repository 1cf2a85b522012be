"""What is due when (planner) and getting it out (dispatcher, outbox), APScheduler wiring."""
