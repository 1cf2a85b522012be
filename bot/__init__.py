"""Everything that speaks Slack: the Bolt app, listeners, Block Kit, templates, the Web API wrapper."""
