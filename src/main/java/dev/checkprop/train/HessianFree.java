package dev.checkprop.train;

import dev.checkprop.exec.Executor;
import dev.checkprop.nn.Curvature;
import dev.checkprop.hvp.Directions;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;

import java.util.Locale;

/**
 * Hessian-free optimisation (Martens, ICML 2010): a truncated Newton method whose step d
 * approximately minimises the damped Gauss-Newton model
 * <pre>
 * q(d) = g&middot;d + &frac12; d^T (G + &lambda;I) d
 * </pre>
 * by conjugate gradient, using only products G&middot;p from {@link Executor#hessianVector} (so any
 * checkpoint plan works), never G itself.
 *
 * <h2>One step</h2>
 * <ol>
 * <li>Warm start: d<sub>0</sub> = &zeta;&middot;d<sub>prev</sub> (&zeta; = {@link Settings#warmStartDecay}), the
 *     previous accepted step decayed; 0 at the first step and after a rejected one.</li>
 * <li>The gradient g and the loss f(&theta;) at the current parameters: with a warm start they come free
 *     with the first product (G + &lambda;I)d<sub>0</sub>; otherwise one gradient pass.</li>
 * <li>Conjugate gradient from d<sub>0</sub> on (G + &lambda;I)d = &minus;g, at most
 *     {@link Settings#maxCgIterations} products, stopped early by Martens' relative-progress test
 *     (stop at iteration i &gt; k = max(10, i/10) when q<sub>i</sub> &lt; 0 and
 *     (q<sub>i</sub> &minus; q<sub>i&minus;k</sub>)/q<sub>i</sub> &lt; k&middot;5&middot;10<sup>&minus;4</sup>) or when a
 *     curvature p&middot;(G + &lambda;I)p is not positive.</li>
 * <li>One trial pass for f(&theta; + d); the reduction ratio &rho; = (f(&theta; + d) &minus; f(&theta;)) / m(d),
 *     with m(d) = g&middot;d + &frac12;d<sup>T</sup>G d the <em>undamped</em> model's predicted change, drives
 *     the Levenberg–Marquardt rule: &lambda; &larr; &lambda;&middot;2/3 when &rho; &gt; 3/4, &lambda; &larr; &lambda;&middot;3/2
 *     when &rho; &lt; 1/4 (clamped to [{@link Settings#minDamping}, {@link Settings#maxDamping}]).</li>
 * <li>The step is kept if f(&theta; + d) &lt; f(&theta;); otherwise the parameters are restored exactly
 *     (from a copy) and the warm start is dropped.</li>
 * </ol>
 * So a step costs exactly m + 2 executor passes for m conjugate-gradient products (each pass is one
 * forward and one backward sweep under the plan; a product pass is about twice a gradient pass in
 * flops, see {@link dev.checkprop.nn.Layer#tangentCost}). {@link #passes()} counts them.
 * Not included, from the paper: CG-backtracking over stored iterates, the diagonal preconditioner
 * and structural damping; the curvature batch is the gradient batch.
 *
 * <h2>Order of use</h2>
 * Build an executor with {@link Executor#forHessianProducts} for the network and the batch size,
 * then construct the optimizer on it (it allocates all its state: seven parameter-sized vectors).
 * Either call {@link #step(Batch, int)} per step, which computes everything itself, or — to fit the
 * {@link Optimizer} contract of a training loop that computes gradients itself — call
 * {@link #useBatch(Batch)} and then {@link #step(Gradients, int)} with that batch's gradient. The step
 * index also sets the executor's dropout step ({@link Executor#setStep}), so every pass of a step
 * sees the same masks and CG minimises one fixed quadratic. The caller owns (and closes) the
 * executor. Allocates nothing per step; not thread-safe.
 */
public final class HessianFree implements Optimizer {

    /**
     * Hyperparameters.
     *
     * @param initialDamping  &lambda; at the first step, &gt; 0
     * @param maxCgIterations products per step at most, &ge; 1
     * @param warmStartDecay  &zeta; in [0, 1]: the previous step's share in the next CG start
     * @param minDamping      the floor of &lambda;, &gt; 0
     * @param maxDamping      the ceiling of &lambda;, &ge; minDamping
     */
    public record Settings(double initialDamping, int maxCgIterations, double warmStartDecay, double minDamping,
                           double maxDamping) {

        /** Checks the ranges above. */
        public Settings {
            if (!(initialDamping > 0) || !Double.isFinite(initialDamping)) {
                throw new IllegalArgumentException("initial damping must be finite and > 0, got " + initialDamping);
            }
            if (maxCgIterations < 1) {
                throw new IllegalArgumentException("max CG iterations must be >= 1, got " + maxCgIterations);
            }
            if (!(warmStartDecay >= 0 && warmStartDecay <= 1)) {
                throw new IllegalArgumentException("warm-start decay must be in [0, 1], got " + warmStartDecay);
            }
            if (!(minDamping > 0) || !(maxDamping >= minDamping) || !Double.isFinite(maxDamping)) {
                throw new IllegalArgumentException("damping bounds need 0 < min <= max < infinity, got " + minDamping
                        + " and " + maxDamping);
            }
        }

        /** &lambda;<sub>0</sub> = 1, at most 20 CG iterations, &zeta; = 0.95 (Martens' value), &lambda; in [1e-6, 1e6]. */
        public static Settings defaults() {
            return new Settings(1.0, 20, 0.95, 1e-6, 1e6);
        }

        /** Answers these settings with another initial damping. */
        public Settings withInitialDamping(double lambda) {
            return new Settings(lambda, maxCgIterations, warmStartDecay, minDamping, maxDamping);
        }

        /** Answers these settings with another CG iteration limit. */
        public Settings withMaxCgIterations(int iterations) {
            return new Settings(initialDamping, iterations, warmStartDecay, minDamping, maxDamping);
        }
    }

    /**
     * What one step did.
     *
     * @param loss         f(&theta;) at the step's start
     * @param trialLoss    f(&theta; + d)
     * @param predicted    the undamped model's predicted change m(d) (negative when it predicts a decrease)
     * @param rho          the reduction ratio (f(&theta; + d) &minus; f(&theta;)) / m(d)
     * @param damping      &lambda; used for this step (the next step's may differ)
     * @param cgIterations products spent in conjugate gradient (not counting the warm start's)
     * @param accepted     whether the parameters moved
     * @param passes       executor passes this step took: cgIterations + 2
     */
    public record StepReport(double loss, double trialLoss, double predicted, double rho, double damping,
                             int cgIterations, boolean accepted, int passes) {
    }

    /** Martens' CG stopping constants: the window is max(10, i/10) iterations, the tolerance 5e-4 per iteration. */
    private static final int PROGRESS_MIN_WINDOW = 10;
    private static final double PROGRESS_TOLERANCE = 5e-4;

    private final Executor exec;
    private final Network net;
    private final Loss loss;
    private final Settings settings;
    private final Parameters params;
    private final Gradients g;
    private final Gradients d;
    private final Gradients r;
    private final Gradients p;
    private final Gradients ap;
    private final Gradients trialGradient;
    private final float[][] backup;
    private final double[] progress;
    private double lambda;
    private boolean warm;
    private Batch batch;
    private long passes;
    private StepReport last;

    /**
     * @param exec     an executor built by {@link Executor#forHessianProducts} for the network to train
     * @param loss     the loss to minimise
     * @param settings hyperparameters
     * @throws IllegalArgumentException if the executor cannot compute products
     */
    public HessianFree(Executor exec, Loss loss, Settings settings) {
        if (!exec.hessianProducts()) {
            throw new IllegalArgumentException("hessian-free needs an executor built by Executor.forHessianProducts");
        }
        this.exec = exec;
        this.net = exec.network();
        this.loss = java.util.Objects.requireNonNull(loss, "loss");
        this.settings = java.util.Objects.requireNonNull(settings, "settings");
        this.params = new Parameters(net);
        this.g = Gradients.zerosLike(net);
        this.d = Gradients.zerosLike(net);
        this.r = Gradients.zerosLike(net);
        this.p = Gradients.zerosLike(net);
        this.ap = Gradients.zerosLike(net);
        this.trialGradient = Gradients.zerosLike(net);
        this.backup = params.zerosLike();
        this.progress = new double[settings.maxCgIterations() + 1];
        this.lambda = settings.initialDamping();
    }

    /**
     * Sets the batch that {@link #step(Gradients, int)} forms curvature products and the trial loss
     * on: the batch the gradient passed to it was computed on. The batch is read during each step;
     * the caller must not change it between this call and the step.
     */
    public void useBatch(Batch batch) {
        this.batch = java.util.Objects.requireNonNull(batch, "batch");
    }

    /**
     * One step on {@code batch}, computing the gradient itself (free with the first product after the
     * first step). Answers what it did.
     *
     * @param stepIndex the number of steps taken before this one (sets the dropout masks)
     * @throws IllegalArgumentException on a batch that does not fit the executor or the loss
     */
    public StepReport step(Batch batch, int stepIndex) {
        useBatch(batch);
        return run(null, stepIndex);
    }

    /**
     * One step from the gradient {@code grad} of the batch set by {@link #useBatch}, as the
     * {@link Optimizer} contract asks.
     *
     * @throws IllegalStateException if no batch has been set
     */
    @Override
    public void step(Gradients grad, int stepIndex) {
        if (batch == null) {
            throw new IllegalStateException("hessian-free forms curvature products on a batch: call useBatch(batch) with"
                    + " the gradient's batch before step(gradient, index)");
        }
        params.check(grad);
        run(grad, stepIndex);
    }

    private StepReport run(Gradients given, int stepIndex) {
        if (stepIndex < 0) {
            throw new IllegalArgumentException("step index must be >= 0, got " + stepIndex);
        }
        exec.setStep(stepIndex);
        final float lam = (float) lambda;
        int stepPasses = 0;
        double f0 = Double.NaN;
        if (given != null) {
            Directions.copy(given, g);
        }
        // r = -g - (G + λI) d0, with d0 the decayed previous step (or 0).
        if (warm) {
            Directions.scale((float) settings.warmStartDecay(), d);
            f0 = exec.hessianVector(batch, loss, d, given == null ? g : null, ap, Curvature.GAUSS_NEWTON);
            stepPasses++;
            Directions.axpy(lam, d, ap);
            Directions.copy(g, r);
            Directions.scale(-1f, r);
            Directions.axpy(-1f, ap, r);
        } else {
            Directions.zero(d);
            if (given == null) {
                f0 = exec.gradient(batch, loss, g);
                stepPasses++;
            }
            Directions.copy(g, r);
            Directions.scale(-1f, r);
        }
        Directions.copy(r, p);
        double rr = Directions.dot(r, r);
        // q(d) = ½ d·(g - r) is the damped model's value, since (G + λI)d = -g - r.
        progress[0] = 0.5 * (Directions.dot(d, g) - Directions.dot(d, r));
        int iterations = 0;
        while (iterations < settings.maxCgIterations() && rr > 0) {
            final double fi = exec.hessianVector(batch, loss, p, null, ap, Curvature.GAUSS_NEWTON);
            stepPasses++;
            if (Double.isNaN(f0)) {
                f0 = fi; // every product is at θ: the first one that runs gives f(θ)
            }
            Directions.axpy(lam, p, ap);
            final double curvature = Directions.dot(p, ap);
            if (!(curvature > 0)) {
                break; // only rounding can make G + λI look indefinite; stop with the iterate we have
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
        if (Double.isNaN(f0)) {
            // The gradient was given and exactly zero: no product ran. One pass for the loss.
            f0 = exec.gradient(batch, loss, trialGradient);
            stepPasses++;
        }
        // Undamped model change m(d) = g·d + ½ dᵀG d = ½ (g·d - r·d) - ½ λ |d|².
        final double predicted = 0.5 * (Directions.dot(d, g) - Directions.dot(d, r)) - 0.5 * lambda * Directions.dot(d, d);
        for (int t = 0; t < params.tensors.length; t++) {
            System.arraycopy(params.tensors[t], 0, backup[t], 0, backup[t].length);
            final float[] w = params.tensors[t];
            final float[] dt = Parameters.gradient(d, t);
            for (int i = 0; i < w.length; i++) {
                w[i] += dt[i];
            }
        }
        final double f1 = exec.gradient(batch, loss, trialGradient);
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
            for (int t = 0; t < params.tensors.length; t++) {
                System.arraycopy(backup[t], 0, params.tensors[t], 0, backup[t].length);
            }
            warm = false;
        }
        passes += stepPasses;
        last = new StepReport(f0, f1, predicted, rho, used, iterations, accepted, stepPasses);
        return last;
    }

    /** The scalars a checkpoint needs besides {@link #stateArrays()}: &lambda;, the warm-start flag, the passes. */
    double[] checkpointScalars() {
        return new double[] {lambda, warm ? 1 : 0, passes};
    }

    /** Restores what {@link #checkpointScalars()} answered (the arrays are restored through {@link #stateArrays()}). */
    void restoreScalars(double[] s) {
        if (s.length != 3 || !(s[0] > 0) || !Double.isFinite(s[0])) {
            throw new IllegalArgumentException("hessian-free checkpoint scalars must be (lambda > 0, warm, passes), got "
                    + java.util.Arrays.toString(s));
        }
        lambda = s[0];
        warm = s[1] != 0;
        passes = (long) s[2];
    }

    /** Answers the executor passes (gradients and products, each one forward and one backward sweep) so far. */
    public long passes() {
        return passes;
    }

    /** Answers the current damping &lambda;. */
    public double damping() {
        return lambda;
    }

    /** Answers what the last step did, or null before the first. */
    public StepReport lastStep() {
        return last;
    }

    /** Answers the settings. */
    public Settings settings() {
        return settings;
    }

    /** Answers 28 bytes per parameter: seven vectors (g, d, r, p, G·p, a trial gradient, a parameter copy). */
    @Override
    public long stateBytes() {
        return 7L * 4L * params.count;
    }

    @Override
    public java.util.List<float[]> stateArrays() {
        java.util.List<float[]> all = new java.util.ArrayList<>();
        for (Gradients v : new Gradients[] {g, d, r, p, ap, trialGradient}) {
            for (int l = 1; l <= v.depth(); l++) {
                all.add(v.weights(l));
                all.add(v.bias(l));
            }
        }
        all.addAll(java.util.Arrays.asList(backup));
        return all;
    }

    @Override
    public String name() {
        return "hessian-free";
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "hessian-free(lambda0=%g, cg=%d, zeta=%g)", settings.initialDamping(),
                settings.maxCgIterations(), settings.warmStartDecay());
    }
}
