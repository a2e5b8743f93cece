from agentladder.cli import app

app()
