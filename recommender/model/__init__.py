"""The ArticleRecommender and its parts."""
