"""Detector and Embedder interfaces, their ONNX and dlib implementations, and the model registry."""
