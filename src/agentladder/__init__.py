"""agentladder: fair, explainable evaluation and automatic promotion of call-centre agents."""

__version__ = "0.1.0"
