"""newswatch's composition root: configuration, the application factory and the CLI."""
