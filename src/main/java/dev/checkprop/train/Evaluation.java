package dev.checkprop.train;

import dev.checkprop.data.Dataset;
import dev.checkprop.exec.Executor;
import dev.checkprop.nn.Loss;

/**
 * Loss and accuracy of a network on a dataset, computed with {@link Executor#predict} in chunks of
 * the executor's batch size (dropout off). The loss is the mean over all samples, accumulated in
 * double in sample order; accuracy (classification only) counts argmax hits, ties to the lower class.
 *
 * @param loss     mean loss
 * @param accuracy fraction of correct argmax predictions, or NaN for regression
 * @param samples  how many samples were evaluated
 */
public record Evaluation(double loss, double accuracy, int samples) {

    /** Evaluates {@code data} with {@code exec}'s network. */
    public static Evaluation of(Executor exec, Dataset data, Loss loss) {
        final int chunk = exec.batchSize();
        final int nL = exec.network().outputWidth();
        final float[] out = new float[chunk * nL];
        double total = 0;
        long hits = 0;
        for (int from = 0; from < data.size(); from += chunk) {
            int to = Math.min(data.size(), from + chunk);
            int[] idx = new int[to - from];
            for (int i = 0; i < idx.length; i++) {
                idx[i] = from + i;
            }
            exec.predict(data.batch(idx), out);
            for (int i = 0; i < idx.length; i++) {
                int sample = from + i;
                if (loss != Loss.SOFTMAX_CROSS_ENTROPY) {
                    double c = 0;
                    for (int u = 0; u < nL; u++) {
                        double d = out[i * nL + u] - data.target(sample, u);
                        c += d * d;
                    }
                    // mse: 1/2 |a - y|^2 per sample; mse-mean (torch's MSELoss): the mean over the n_L outputs.
                    total += loss == Loss.MSE ? 0.5 * c : c / nL;
                } else {
                    double max = Double.NEGATIVE_INFINITY;
                    int arg = 0;
                    for (int u = 0; u < nL; u++) {
                        if (out[i * nL + u] > max) {
                            max = out[i * nL + u];
                            arg = u;
                        }
                    }
                    double sum = 0;
                    for (int u = 0; u < nL; u++) {
                        sum += StrictMath.exp(out[i * nL + u] - max);
                    }
                    int label = data.label(sample);
                    total += max + StrictMath.log(sum) - out[i * nL + label];
                    if (arg == label) {
                        hits++;
                    }
                }
            }
        }
        double accuracy = loss != Loss.SOFTMAX_CROSS_ENTROPY ? Double.NaN : (double) hits / data.size();
        return new Evaluation(total / data.size(), accuracy, data.size());
    }
}
