"""The evaluation workspace: who sees which evaluation, drafts, the agent's and the lead's pages."""
