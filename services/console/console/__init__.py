"""Console: the HQ and store staff's browser screens, a backend-for-frontend over the owning services' APIs."""
