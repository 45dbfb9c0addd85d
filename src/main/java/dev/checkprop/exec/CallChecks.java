package dev.checkprop.exec;

import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;

/** The executor's argument checks, run before any layer: a shape or target mismatch is named, never computed with. */
final class CallChecks {

    private CallChecks() {
    }

    /** {@link Executor#gradient}'s arguments. */
    static void gradientCall(Network net, int batch, Batch data, Loss loss, Gradients out) {
        checkShapes(net, batch, data, loss);
        checkShaped(net, "gradients", out);
    }

    /** {@link Executor#hessianVector}'s arguments ({@code outGradient} may be null). */
    static void curvatureCall(Network net, int batch, Batch data, Loss loss, Gradients v, Gradients outGradient,
                              Gradients outProduct) {
        checkShaped(net, "the product", outProduct);
        checkShapes(net, batch, data, loss);
        checkShaped(net, "the direction v", v);
        if (outGradient != null) {
            checkShaped(net, "the gradient", outGradient);
        }
        for (int l = 1; l <= net.depth(); l++) {
            if (net.layer(l).hasParameters() && (shares(v, outProduct, l) || (outGradient != null
                    && (shares(v, outGradient, l) || shares(outGradient, outProduct, l))))) {
                throw new IllegalArgumentException("the direction v, the gradient and the product must be distinct arrays"
                        + " (layer " + l + " shares one)");
            }
        }
    }

    private static boolean shares(Gradients a, Gradients b, int l) {
        return a.weights(l) == b.weights(l) || a.bias(l) == b.bias(l);
    }

    private static void checkShaped(Network net, String what, Gradients g) {
        final int depth = net.depth();
        final boolean plural = what.equals("gradients");
        if (g.depth() != depth) {
            throw new IllegalArgumentException(what + (plural ? " are" : " is") + " for " + g.depth()
                    + " layers, the network has " + depth);
        }
        for (int l = 1; l <= depth; l++) {
            if (g.weights(l).length != net.layer(l).weights().length || g.bias(l).length != net.layer(l).bias().length) {
                throw new IllegalArgumentException(plural ? "gradients of layer " + l + " are not shaped like its parameters"
                        : what + ": layer " + l + " is not shaped like its parameters");
            }
        }
    }

    private static void checkShapes(Network net, int batch, Batch data, Loss loss) {
        if (data.size() > batch) {
            throw new IllegalArgumentException("batch has " + data.size() + " samples but the executor was sized for at most " + batch);
        }
        if (data.inputWidth() != net.inputWidth()) {
            throw new IllegalArgumentException("x has width " + data.inputWidth() + " but the network's input a^0 has width "
                    + net.inputWidth());
        }
        loss.checkCompatible(net, data);
    }

}
