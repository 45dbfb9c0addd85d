package dev.checkprop.spark;

import java.io.Serializable;

/**
 * One data point of a user's {@code JavaRDD<Sample>}: inputs x, and either regression targets y
 * (for {@code mse}, {@code mse-mean}) or a class label (for {@code softmax-ce}). Every sample of an
 * RDD has the same kind and widths. The arrays are the caller's: they are read, never changed,
 * and not copied until a partition converts its samples into its shard.
 *
 * @param x     the inputs, as wide as the model's input layer
 * @param y     the targets, or null for a labelled sample
 * @param label the class, 0..K-1, or -1 for a regression sample
 */
public record Sample(float[] x, float[] y, int label) implements Serializable {

    /** A regression sample. */
    public static Sample of(float[] x, float[] y) {
        if (x == null || y == null) {
            throw new IllegalArgumentException("a regression sample needs x and y");
        }
        return new Sample(x, y, -1);
    }

    /** A classification sample. */
    public static Sample of(float[] x, int label) {
        if (x == null) {
            throw new IllegalArgumentException("a sample needs x");
        }
        if (label < 0) {
            throw new IllegalArgumentException("labels must be non-negative, got " + label);
        }
        return new Sample(x, null, label);
    }
}
