package dev.checkprop.exec;

import dev.checkprop.kernel.Kernels;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Layer;
import dev.checkprop.nn.LayerContext;
import dev.checkprop.nn.Network;
import dev.checkprop.plan.Planners;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A curvature executor over a layer with no R-operator is refused when it is built, not at its first product. */
class CurvatureRefusalTest {

    /** The identity, with a forward and a backward but no tangent methods. */
    static final class PassThrough implements Layer {
        private final int width;

        PassThrough(int width) {
            this.width = width;
        }

        @Override
        public int inputWidth() {
            return width;
        }

        @Override
        public int outputWidth() {
            return width;
        }

        @Override
        public String kind() {
            return "pass-through";
        }

        @Override
        public float[] weights() {
            return new float[0];
        }

        @Override
        public float[] bias() {
            return new float[0];
        }

        @Override
        public Layer copy() {
            return new PassThrough(width);
        }

        @Override
        public long forwardCost(int batch) {
            return (long) batch * width;
        }

        @Override
        public long forwardFlops(int batch) {
            return 0;
        }

        @Override
        public void forward(LayerContext c) {
            System.arraycopy(c.input(), 0, c.output(), 0, width * c.samples());
        }

        @Override
        public void backward(LayerContext c) {
            if (c.gradInput() != null) {
                System.arraycopy(c.gradOutput(), 0, c.gradInput(), 0, width * c.samples());
            }
        }
    }

    @Test
    void refusedAtConstructionNamingTheLayer() {
        List<Layer> layers = new ArrayList<>(Network.builder(4).dense(6, Activation.TANH).build(1).layers());
        layers.add(new PassThrough(6));
        layers.addAll(Network.builder(6).dense(3, Activation.IDENTITY).build(2).layers());
        Network net = new Network(layers);
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> Executor.forHessianProducts(net, Planners.parse("full").plan(3), 4, Kernels.get(), 1));
        assertTrue(e.getMessage().startsWith("layer 2 (pass-through, " + PassThrough.class.getName() + ") has no R-operator"),
                e.getMessage());
        // Gradients still run through it.
        try (Executor ex = new Executor(net, Planners.parse("sqrt").plan(3), 4)) {
            assertTrue(ex.plan().layers() == 3);
        }
    }
}
