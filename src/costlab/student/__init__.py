"""Students: a smaller pretrained model, or one pruned from the teacher by measured importance."""
