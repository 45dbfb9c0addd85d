package dev.checkprop.exec;

/**
 * A computation from finite inputs produced a NaN or an infinity: finite but huge weights, targets
 * or directions overflow float range. Thrown by {@link Executor} after the run, before any caller
 * can store the result, naming the first layer where the values stopped being finite.
 */
public final class NonFiniteException extends ArithmeticException {

    private static final long serialVersionUID = 1L;

    /** Where it happened: a layer 1..L, or 0 for the loss after a finite forward pass. */
    private final int layer;

    NonFiniteException(int layer, String message) {
        super(message);
        this.layer = layer;
    }

    /**
     * Answers the exception for a non-finite {@code loss} of {@code net} on {@code data} found outside
     * an executor (an evaluation over many batches): the first layer whose output overflows, or the
     * loss itself.
     */
    public static NonFiniteException forLoss(dev.checkprop.nn.Network net, dev.checkprop.nn.Batch data,
                                             dev.checkprop.nn.Loss loss, double value) {
        int layer;
        try (Executor ex = new Executor(net, new dev.checkprop.plan.FullStoragePlanner().plan(net.depth()), data.size())) {
            layer = ex.firstNonFiniteLayer(data);
        }
        return NonFiniteCheck.locate(net, data, loss, value, null, null, layer);
    }

    /** The 1-based layer where the values first became non-finite, or 0 when it was the loss itself. */
    public int layer() {
        return layer;
    }
}
