"""Distances in the interpretation space, without ever forming an N x N matrix.

``points``: point sets given implicitly (a matrix with optional row weights, or dp/dx built block
by block); ``kcenter``: greedy K-Center (farthest-first or k-means++ draws) and nearest centers;
``kmeans``: k-means around fixed (labeled) centers and each new cluster's central row.
"""
