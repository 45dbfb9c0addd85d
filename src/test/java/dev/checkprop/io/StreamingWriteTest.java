package dev.checkprop.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.checkprop.hvp.DirectionFile;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Network;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Writing a model, its gradients or a direction streams the parameters' arrays: a heap that holds the
 * network once must not need a second copy to save it (a 200 x 512 x 512 network at -Xmx1100m ran out
 * of memory writing its gradient file when the writer copied them). Checked by the bytes the writing
 * thread allocates, against 4 MiB of parameters, and by the files' bytes against the copying path.
 */
class StreamingWriteTest {

    @TempDir
    Path dir;

    private static long allocated(com.sun.management.ThreadMXBean bean, IoAction action) throws Exception {
        long before = bean.getCurrentThreadAllocatedBytes();
        action.run();
        return bean.getCurrentThreadAllocatedBytes() - before;
    }

    interface IoAction {
        void run() throws Exception;
    }

    @Test
    void savingAllocatesFarLessThanTheParameters() throws Exception {
        assumeTrue(ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean b
                && b.isThreadAllocatedMemorySupported() && b.isThreadAllocatedMemoryEnabled(),
                "this JVM does not count allocated bytes per thread");
        com.sun.management.ThreadMXBean bean = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        Network net = Network.builder(512).dense(4, 512, Activation.TANH).build(3);   // 4 MiB of parameters
        Gradients g = Gradients.zerosLike(net);
        for (int l = 1; l <= net.depth(); l++) {
            float[] w = g.weights(l);
            for (int i = 0; i < w.length; i++) {
                w[i] = (i % 97) * 0.25f - l;
            }
        }
        Path model = dir.resolve("m.safetensors");
        Path grads = dir.resolve("g.safetensors");
        Path dirFile = dir.resolve("v.safetensors");
        long bound = 1L << 20; // the parameters are 4 MiB; a copy would be at least that
        for (int round = 0; round < 2; round++) {   // the first round loads and compiles the writer's classes
            long m = allocated(bean, () -> ModelFile.save(net, model));
            long gr = allocated(bean, () -> ModelFile.saveGradients(net, g, 1.5, grads));
            long v = allocated(bean, () -> DirectionFile.write(net, g, Map.of("loss", "1.5"), dirFile));
            if (round == 1) {
                assertTrue(m < bound, "ModelFile.save allocated " + m + " bytes");
                assertTrue(gr < bound, "ModelFile.saveGradients allocated " + gr + " bytes");
                assertTrue(v < bound, "DirectionFile.write allocated " + v + " bytes");
            }
        }
        assertArrayEquals(ModelFile.toSafeTensors(net).toBytes(), Files.readAllBytes(model));
        assertArrayEquals(ModelFile.gradientsToSafeTensors(net, g, 1.5).toBytes(), Files.readAllBytes(grads));
        assertArrayEquals(DirectionFile.toSafeTensors(net, g, Map.of("loss", "1.5")).toBytes(), Files.readAllBytes(dirFile));
    }
}
