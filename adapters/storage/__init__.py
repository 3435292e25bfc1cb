"""Object storage through obstore: local files, memory, S3, Azure Blob and Google Cloud Storage."""
