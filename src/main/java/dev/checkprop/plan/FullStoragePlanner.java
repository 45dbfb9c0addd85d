package dev.checkprop.plan;

/**
 * The baseline: keep every activation from the one forward sweep. L forward evaluations and L
 * live buffers at the loss.
 */
public final class FullStoragePlanner implements Planner {

    @Override
    public Plan plan(int layers) {
        return plan("full", layers);
    }

    /** Full storage under another name (what a budget that holds everything plans). */
    static Plan plan(String name, int layers) {
        Plan.Builder b = Plan.builder(name, layers);
        Plan.checkSize(name, layers, layers, "use a larger -Xmx (or fewer layers)");
        for (int l = 1; l <= layers; l++) {
            b.forward(l);
        }
        b.loss();
        backwardKept(b, layers, 0);
        return b.build();
    }

    /** Backward through layers {@code to} down to {@code from + 1}, whose activations are all live. */
    static void backwardKept(Plan.Builder b, int to, int from) {
        for (int l = to; l > from; l--) {
            b.backward(l);
            b.drop(l);
        }
    }

    @Override
    public String toString() {
        return "full";
    }
}
