"""Vector indexes derived from the store: the interfaces, the exact default, FAISS HNSW, pgvector and Milvus."""
