"""A fitted gradient-boosted classifier's trees as plain arrays.

The learned mode (:mod:`recommender.model.rerank`) learns with scikit-learn's
``HistGradientBoostingClassifier``, then keeps its trees as :class:`Trees`: arrays that a
model folder saves as ``.npy`` files and loads without unpickling anything, and that give
the classifier's raw score again.
"""

from __future__ import annotations

import logging

import numpy as np

__all__ = ["Trees"]

logger = logging.getLogger(__name__)


class Trees:
    """The trees of a fitted ``HistGradientBoostingClassifier`` as plain arrays.

    ``decision_function(X)`` walks them with numpy and gives the classifier's raw score
    (log-odds); the arrays save as ``.npy`` files without pickling.
    """

    FIELDS = ("feature", "threshold", "left", "right", "missing_left", "is_leaf", "value")

    def __init__(self, feature, threshold, left, right, missing_left, is_leaf, value, roots,
                 baseline: float):
        self.feature = np.asarray(feature, np.int32)
        self.threshold = np.asarray(threshold, np.float64)
        self.left = np.asarray(left, np.int32)
        self.right = np.asarray(right, np.int32)
        self.missing_left = np.asarray(missing_left, bool)
        self.is_leaf = np.asarray(is_leaf, bool)
        self.value = np.asarray(value, np.float64)
        self.roots = np.asarray(roots, np.int32)
        self.baseline = float(baseline)

    @classmethod
    def from_classifier(cls, clf) -> "Trees":
        """Read the trees of a fitted binary ``HistGradientBoostingClassifier``."""
        if not hasattr(clf, "_predictors"):
            raise ValueError("the classifier is not fitted yet; fit it first")
        if getattr(clf, "n_trees_per_iteration_", None) != 1:
            raise ValueError("only a binary HistGradientBoostingClassifier can be kept")
        parts, roots, offset = [], [], 0
        for (predictor,) in clf._predictors:
            nodes = predictor.nodes
            if nodes["is_categorical"].any():
                raise ValueError("categorical splits are not supported; give numbers")
            roots.append(offset)
            parts.append({
                "feature": nodes["feature_idx"], "threshold": nodes["num_threshold"],
                "left": nodes["left"] + offset, "right": nodes["right"] + offset,
                "missing_left": nodes["missing_go_to_left"].astype(bool),
                "is_leaf": nodes["is_leaf"].astype(bool), "value": nodes["value"],
            })
            offset += len(nodes)
        arrays = {f: np.concatenate([p[f] for p in parts]) for f in cls.FIELDS}
        return cls(**arrays, roots=roots, baseline=float(np.ravel(clf._baseline_prediction)[0]))

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """The raw score (log-odds) of each row of ``X``.

        The trees are handed to scikit-learn's compiled tree walker when this version of it
        has the one they came from (ten times faster); otherwise numpy walks them.
        """
        X = np.asarray(X, np.float64)
        predictors = self._compiled()
        if predictors:
            X = np.ascontiguousarray(X)
            empty_bitsets = np.zeros((0, 8), np.uint32)
            total = np.full(X.shape[0], self.baseline)
            for predictor in predictors:
                total += predictor.predict(X, empty_bitsets, np.zeros(0, np.uint32), 1)
            return total
        return self._walk(X)

    def _compiled(self) -> list:
        """scikit-learn ``TreePredictor`` objects of the trees, or [] when not available."""
        if getattr(self, "_predictors", None) is None:
            self._predictors = []
            try:
                from sklearn.ensemble._hist_gradient_boosting.common import (
                    PREDICTOR_RECORD_DTYPE)
                from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor

                ends = np.append(self.roots[1:], len(self.feature))
                for start, end in zip(self.roots, ends):
                    nodes = np.zeros(end - start, dtype=PREDICTOR_RECORD_DTYPE)
                    nodes["value"] = self.value[start:end]
                    nodes["feature_idx"] = self.feature[start:end]
                    nodes["num_threshold"] = self.threshold[start:end]
                    nodes["missing_go_to_left"] = self.missing_left[start:end]
                    nodes["is_leaf"] = self.is_leaf[start:end]
                    inner = ~self.is_leaf[start:end]
                    nodes["left"][inner] = self.left[start:end][inner] - start
                    nodes["right"][inner] = self.right[start:end][inner] - start
                    self._predictors.append(TreePredictor(nodes, np.zeros((0, 8), np.uint32),
                                                          np.zeros((0, 8), np.uint32)))
            except Exception:  # another scikit-learn: numpy walks the trees
                logger.debug("scikit-learn's tree walker is not usable here", exc_info=True)
                self._predictors = []
        return self._predictors

    def _walk(self, X: np.ndarray) -> np.ndarray:
        """:meth:`decision_function` in numpy: all trees walked together, one level per
        step, in chunks of rows."""
        total = np.full(X.shape[0], self.baseline)
        step = max(1, 2_000_000 // max(len(self.roots), 1))
        for a in range(0, X.shape[0], step):
            chunk = X[a:a + step]
            node = np.broadcast_to(self.roots, (chunk.shape[0], len(self.roots))).copy()
            row = np.arange(chunk.shape[0])[:, None]
            while True:
                inner = ~self.is_leaf[node]
                if not inner.any():
                    break
                x = chunk[np.broadcast_to(row, node.shape)[inner], self.feature[node[inner]]]
                at = node[inner]
                left = np.where(np.isnan(x), self.missing_left[at], x <= self.threshold[at])
                node[inner] = np.where(left, self.left[at], self.right[at])
            total[a:a + step] += self.value[node].sum(axis=1)
        return total

    def arrays(self) -> dict:
        return {**{f: getattr(self, f) for f in self.FIELDS}, "roots": self.roots}
