"""The local Slack: ``emulator.SlackEmulator`` (the Web API), ``driver.SlackDriver`` (Slack's requests
to the bot) and ``blockkit`` (Slack's Block Kit rules). Nothing here imports the bot."""
