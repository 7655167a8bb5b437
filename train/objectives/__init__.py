"""Pretraining objectives: T5 span corruption and packed causal LM."""
