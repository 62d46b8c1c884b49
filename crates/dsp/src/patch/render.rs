//! Rendering one block: each module in order, the voices after the template's last module, the
//! soft limiter. Called on the audio thread: no allocation, no lock.

use super::*;

impl Patch {
    /// Renders one block into `out` (whose length must be the block size; a shorter slice
    /// renders that many samples of each module's next block). Never allocates.
    pub fn process(&mut self, out: &mut [f32]) {
        let n = out.len().min(self.block);
        let voices_end = self.voices.end().map(|id| id.0 as usize);
        for k in 0..self.order.len() {
            let i = self.order[k];
            self.process_node(i, n);
            if Some(i) == voices_end {
                self.process_voices(i, n);
            }
        }
        let block = self.block;
        let out = &mut out[..n];
        let mut first = true;
        for node in self.nodes.iter().flatten().filter(|n| n.desc.to_out) {
            let src = &self.buffers[node.desc.id.0 as usize * block..][..n];
            if first {
                out.copy_from_slice(src);
                first = false;
            } else {
                for (d, s) in out.iter_mut().zip(src) {
                    *d += s;
                }
            }
        }
        if first {
            out.fill(0.0);
        }
        soft_limit_block(out);
    }

    /// Renders node `i`'s next `n` samples into its buffer.
    pub(super) fn process_node(&mut self, i: usize, n: usize) {
        let block = self.block;
        let Some(node) = self.nodes[i].as_mut() else {
            return;
        };
        // Control-rate modulation: the first sample of each LFO's block.
        let (amounts, touched) = modulation(&node.desc.routes, |src| self.buffers[src * block]);
        for (p, &a) in amounts.iter().enumerate() {
            if touched & (1 << p) != 0 {
                node.module.set_modulation(p as ParamId, a);
            }
        }
        if !node.audio_used {
            // Only read at control rate (or not at all): skip the audio where the module can.
            if let Some(first) = node.module.skip(n) {
                self.buffers[i * block] = first;
                return;
            }
        }
        // The sum of the inputs, straight into this module's own buffer.
        match node.desc.inputs.split_first() {
            None => self.buffers[i * block..][..n].fill(0.0),
            Some((first, rest)) => {
                let src = first.0 as usize * block;
                self.buffers.copy_within(src..src + n, i * block);
                for input in rest {
                    let j = input.0 as usize;
                    // Distinct buffers (a module never feeds itself): split to borrow both.
                    let (dst, src) = if j < i {
                        let (a, b) = self.buffers.split_at_mut(i * block);
                        (&mut b[..n], &a[j * block..][..n])
                    } else {
                        let (a, b) = self.buffers.split_at_mut(j * block);
                        (&mut a[i * block..][..n], &b[..n])
                    };
                    for (d, s) in dst.iter_mut().zip(src) {
                        *d += s;
                    }
                }
            }
        }
        node.module.process(&mut self.buffers[i * block..][..n]);
    }

    /// Renders the sounding voices into the template's last module's buffer (`end`).
    pub(super) fn process_voices(&mut self, end: usize, n: usize) {
        if !self.voices.sounding() {
            return;
        }
        let block = self.block;
        let (nodes, buffers, voices) = (&self.nodes, &mut self.buffers, &mut self.voices);
        let (before, rest) = buffers.split_at_mut(end * block);
        let (dst, after) = rest.split_at_mut(block);
        let mut amounts = [([0.0f32; 8], 0u8); MAX_TEMPLATE];
        for (slot, id) in amounts.iter_mut().zip(voices.template()) {
            if let Some(Some(node)) = nodes.get(id.0 as usize) {
                // An LFO's first sample, from whichever side of the split holds it.
                *slot = modulation(&node.desc.routes, |src| {
                    if src < end {
                        before[src * block]
                    } else if src > end {
                        after[(src - end - 1) * block]
                    } else {
                        dst[0]
                    }
                });
            }
        }
        voices.render_into(&mut dst[..n], &amounts);
    }
}

/// The modulation of a module's parameters this block: the sum of the first sample of each
/// routed LFO (`first(lfo index)`), per parameter, and a mask of the parameters routed.
fn modulation(routes: &[Route], first: impl Fn(usize) -> f32) -> ([f32; 8], u8) {
    let mut amounts = [0.0f32; 8];
    let mut touched = 0u8;
    for r in routes {
        if let Some(slot) = amounts.get_mut(r.param as usize) {
            *slot += first(r.from.0 as usize);
            touched |= 1 << r.param;
        }
    }
    (amounts, touched)
}
