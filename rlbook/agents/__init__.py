"""One module per algorithm: ``qlearning`` (chapter 2), ``dqn`` (chapters 3-5),
``reinforce`` (chapter 6) and ``actor_critic`` (chapter 7)."""
