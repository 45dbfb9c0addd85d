package dev.checkprop.spark;

import dev.checkprop.hvp.Directions;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Network;
import dev.checkprop.train.HessianFree;

/**
 * Hessian-free (truncated Newton) steps over shards: {@code train.HessianFree}'s algorithm line for
 * line &mdash; damped Gauss-Newton conjugate gradient with Martens' warm start, stopping rule and
 * Levenberg-Marquardt damping &mdash; with every gradient and every product G&middot;v a call of a
 * {@link ShardBackend}, that is one Spark job on {@link SparkShards}. With one shard it gives the
 * library's {@link HessianFree} bits exactly (tested); with K shards on Spark, the bits of K local
 * shards ({@link LocalShards}).
 */
public final class ShardedHessianFree {

    private static final int PROGRESS_MIN_WINDOW = 10;
    private static final double PROGRESS_TOLERANCE = 5e-4;

    private final ShardBackend shards;
    private final Network net;
    private final HessianFree.Settings settings;
    private final Gradients g;
    private final Gradients d;
    private final Gradients r;
    private final Gradients p;
    private final Gradients ap;
    private final Gradients trialGradient;
    private final float[] backup;
    private final double[] progress;
    private double lambda;
    private boolean warm;
    private long jobs;

    public ShardedHessianFree(ShardBackend shards, HessianFree.Settings settings) {
        this.shards = shards;
        this.net = shards.network();
        this.settings = settings;
        this.g = Gradients.zerosLike(net);
        this.d = Gradients.zerosLike(net);
        this.r = Gradients.zerosLike(net);
        this.p = Gradients.zerosLike(net);
        this.ap = Gradients.zerosLike(net);
        this.trialGradient = Gradients.zerosLike(net);
        this.backup = new float[Flat.count(net)];
        this.progress = new double[settings.maxCgIterations() + 1];
        this.lambda = settings.initialDamping();
    }

    /** Answers the jobs (gradients and products) run so far. */
    public long jobs() {
        return jobs;
    }

    /** One step, as {@code HessianFree.step(batch, stepIndex)} on the whole data. */
    public HessianFree.StepReport step(int stepIndex) {
        final float lam = (float) lambda;
        int stepPasses = 0;
        double f0 = Double.NaN;
        if (warm) {
            Directions.scale((float) settings.warmStartDecay(), d);
            f0 = shards.gaussNewton(d, g, ap, stepIndex);
            stepPasses++;
            Directions.axpy(lam, d, ap);
            Directions.copy(g, r);
            Directions.scale(-1f, r);
            Directions.axpy(-1f, ap, r);
        } else {
            Directions.zero(d);
            f0 = shards.gradient(g, stepIndex);
            stepPasses++;
            Directions.copy(g, r);
            Directions.scale(-1f, r);
        }
        Directions.copy(r, p);
        double rr = Directions.dot(r, r);
        progress[0] = 0.5 * (Directions.dot(d, g) - Directions.dot(d, r));
        int iterations = 0;
        while (iterations < settings.maxCgIterations() && rr > 0) {
            final double fi = shards.gaussNewton(p, null, ap, stepIndex);
            stepPasses++;
            if (Double.isNaN(f0)) {
                f0 = fi;
            }
            Directions.axpy(lam, p, ap);
            final double curvature = Directions.dot(p, ap);
            if (!(curvature > 0)) {
                break;
            }
            final double alpha = rr / curvature;
            Directions.axpy((float) alpha, p, d);
            Directions.axpy((float) -alpha, ap, r);
            iterations++;
            final double rrNext = Directions.dot(r, r);
            final double q = 0.5 * (Directions.dot(d, g) - Directions.dot(d, r));
            progress[iterations] = q;
            final int window = Math.max(PROGRESS_MIN_WINDOW, iterations / 10);
            if (iterations > window && q < 0
                    && (q - progress[iterations - window]) / q < window * PROGRESS_TOLERANCE) {
                break;
            }
            Directions.xpby(r, (float) (rrNext / rr), p);
            rr = rrNext;
        }
        final double predicted = 0.5 * (Directions.dot(d, g) - Directions.dot(d, r)) - 0.5 * lambda * Directions.dot(d, d);
        final float[] params = Flat.of(net);
        System.arraycopy(params, 0, backup, 0, params.length);
        final float[] step = Flat.of(d);
        for (int i = 0; i < params.length; i++) {
            params[i] += step[i];
        }
        Flat.into(params, net);
        shards.parametersChanged();
        final double f1 = shards.gradient(trialGradient, stepIndex);
        stepPasses++;
        final double rho = predicted < 0 ? (f1 - f0) / predicted : Double.NEGATIVE_INFINITY;
        final double used = lambda;
        if (rho > 0.75) {
            lambda = Math.max(settings.minDamping(), lambda * 2.0 / 3.0);
        } else if (rho < 0.25) {
            lambda = Math.min(settings.maxDamping(), lambda * 1.5);
        }
        final boolean accepted = f1 < f0 && Double.isFinite(f1);
        if (accepted) {
            warm = settings.warmStartDecay() > 0;
        } else {
            Flat.into(backup, net);
            shards.parametersChanged();
            warm = false;
        }
        jobs += stepPasses;
        return new HessianFree.StepReport(f0, f1, predicted, rho, used, iterations, accepted, stepPasses);
    }
}
