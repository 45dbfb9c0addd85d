package dev.checkprop.nn;

/**
 * A residual block a<sup>l</sup> = a<sup>l-1</sup> + f(W a<sup>l-1</sup> + b) with square W. Its state is
 * a<sup>l</sup> alone: the backward recomputes the branch h = f(W a<sup>l-1</sup> + b) from a<sup>l-1</sup>
 * (f' cannot be recovered accurately from a<sup>l</sup> &minus; a<sup>l-1</sup>), a second forward
 * product per backward that the plans' costs include. Model-file kind {@code residual}.
 */
public final class ResidualLayer extends AffineLayer {

    /**
     * @param weights row-major {@code [width, width]}; adopted
     * @param bias    {@code [width]}; adopted
     */
    public ResidualLayer(int width, Activation activation, float[] weights, float[] bias) {
        super(width, width, activation, weights, bias, true);
    }

    @Override
    public String kind() {
        return "residual";
    }

    @Override
    public String describe() {
        return "residual " + activation.fileName();
    }

    @Override
    public long backwardRecomputedFlops(int batch) {
        return forwardFlops(batch);
    }

    @Override
    public ResidualLayer copy() {
        return new ResidualLayer(nIn, activation, weights.clone(), bias.clone());
    }
}
