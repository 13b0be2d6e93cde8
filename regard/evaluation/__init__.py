"""Measuring the engine: verification metrics and embedding labelled image sets."""
