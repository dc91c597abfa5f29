pytest_plugins = ["clientops_shared.testing"]
