"""The domain: what is due when, what comes next, grading and scores. No Slack, no SQL."""
