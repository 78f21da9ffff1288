"""Knowledge distillation: losses, data, training."""
