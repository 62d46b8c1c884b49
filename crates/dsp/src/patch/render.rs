//! Rendering one block: each module in order, the voices after the template's last module, the
//! sum of what goes to the output, the soft limiter. Called on the audio thread: no allocation,
//! no lock.

use super::*;
use crate::module::{AudioMod, MAX_AUDIO_RATE, MAX_PARAMS};
use crate::{ModScale, ParamSpec};

impl Patch {
    /// Renders one block of one channel into `out` (whose length must be the block size; a
    /// shorter slice renders that many samples of each module's next block). A stereo patch
    /// gives the equal-power downmix of its two sides, (L + R) · √½ (a centred mono source at
    /// the level a mono patch gives it). Never allocates. Real-time thread.
    pub fn process(&mut self, out: &mut [f32]) {
        if self.stereo {
            let n = out.len().min(self.block);
            let mut right = std::mem::take(&mut self.spare);
            self.process_stereo(&mut out[..n], &mut right[..n]);
            for (l, r) in out[..n].iter_mut().zip(&right[..n]) {
                *l = (*l + *r) * std::f32::consts::FRAC_1_SQRT_2;
            }
            self.spare = right;
        } else {
            let n = self.render(out.len());
            self.mix_out(out, n, 0);
        }
    }

    /// Renders one block of both sides into `left` and `right` (of equal length, at most the
    /// block size). A mono patch gives its one channel to both. Never allocates. Real-time
    /// thread.
    pub fn process_stereo(&mut self, left: &mut [f32], right: &mut [f32]) {
        let n = self.render(left.len().min(right.len()));
        self.mix_out(left, n, 0);
        if self.stereo {
            self.mix_out(right, n, 1);
        } else {
            right[..n].copy_from_slice(&left[..n]);
        }
    }

    /// Renders every module's next `n` samples (at most the block); returns `n`.
    fn render(&mut self, n: usize) -> usize {
        let n = n.min(self.block);
        // Where each sounding instrument's voices end (read once a block, not once a module;
        // an instrument with no voice sounding adds nothing anywhere).
        let mut ends = [None; MAX_INSTRUMENTS];
        for (end, inst) in ends.iter_mut().zip(&self.instruments) {
            if inst.pool.sounding() {
                *end = inst.pool.end().map(|id| id.0 as usize);
            }
        }
        let chans = self.channels();
        let Patch {
            nodes,
            order,
            slots,
            feeds,
            buffers,
            drive,
            instruments,
            block,
            shortcuts,
            voice_lanes,
            ..
        } = self;
        let mut walk = Walk {
            nodes: nodes.as_mut_slice(),
            slots,
            feeds,
            buffers,
            drive,
            block: *block,
            chans,
            shortcuts: *shortcuts,
        };
        if ends.iter().all(Option::is_none) {
            for &i in order.iter() {
                walk.process_node(i, n, false);
            }
        } else {
            let ends = &ends[..instruments.len().min(MAX_INSTRUMENTS)];
            for &i in order.iter() {
                walk.process_node(i, n, ends.contains(&Some(i)));
                for (inst, &end) in instruments.iter_mut().zip(ends) {
                    if end == Some(i) {
                        walk.process_voices(&mut inst.pool, *voice_lanes, i, n);
                    }
                }
            }
        }
        self.render_players(n);
        n
    }

    /// The sum of the modules routed to the output, side `side` (a one-channel module in both
    /// sides), and of the sample players, soft-limited, into `out[..n]`.
    fn mix_out(&self, out: &mut [f32], n: usize, side: usize) {
        let out = &mut out[..n];
        let source = |f: &Feed| &self.buffers[f.at[side] as usize..][..n];
        let outs = self.outs.as_slice();
        if let ([only], false) = (outs, self.playing) {
            // One module to the output (the usual case): its block copied and looked at in
            // one pass.
            copy_soft_limited(out, source(only));
            return;
        }
        match outs.split_first() {
            Some((first, rest)) => {
                out.copy_from_slice(source(first));
                for f in rest {
                    for (d, s) in out.iter_mut().zip(source(f)) {
                        *d += s;
                    }
                }
            }
            None => out.fill(0.0),
        }
        if self.playing {
            let played = &self.played[side * self.block..][..n];
            for (d, s) in out.iter_mut().zip(played) {
                *d += s;
            }
        }
        soft_limit_block(out);
    }
}

/// One block's walk through a patch's modules: what it reads and writes of the patch, each
/// list taken once a block (a list held in the patch asks where its items are at every look).
struct Walk<'a> {
    /// The patch's nodes, by id.
    nodes: &'a mut [Option<Node>],
    /// Each node's slot in `buffers`, by id.
    slots: &'a [usize],
    /// Every node's inputs ([`Node::feeds`] says whose are where).
    feeds: &'a [Feed],
    /// Every slot's audio.
    buffers: &'a mut [f32],
    /// One block's audio-rate modulation, parameter by parameter.
    drive: &'a mut [f32],
    /// Samples per block.
    block: usize,
    /// Channels per slot (2: a stereo patch).
    chans: usize,
    /// The patch takes rendering's shortcuts.
    shortcuts: bool,
}

impl Walk<'_> {
    /// Renders node `i`'s next `n` samples into its buffer (both sides when it is wide);
    /// `voices_end`: an instrument's voices are added into it after. Most modules of most
    /// patches take the plain way here (one channel, no routes, heard as audio), and a module
    /// nothing reads (an LFO no route takes yet) only moves on here; the rest
    /// [`Walk::process_node_fully`]. Real-time thread.
    #[inline(always)]
    fn process_node(&mut self, i: usize, n: usize, voices_end: bool) {
        let Some(node) = self.nodes[i].as_ref() else {
            return;
        };
        if node.resting && node.in_place {
            // At rest on its input as it is: its block already is what it would render.
            return;
        }
        if !node.read && !node.routed && self.shortcuts {
            // Read by nothing (an LFO no route takes): only moves on, where it can.
            if let Some(node) = self.nodes[i].as_mut() {
                if node.module.pass(n) {
                    return;
                }
            }
            self.process_node_fully(i, n, voices_end);
            return;
        }
        let plain = !node.routed && node.audio_used && !node.wide && (node.read || !self.shortcuts);
        if !plain {
            self.process_node_fully(i, n, voices_end);
            return;
        }
        if let Some(c) = node.heard_only_by {
            if !voices_end && self.pass_unheard(i, usize::from(c), n) {
                return;
            }
        }
        let block = self.block;
        let me = self.slots[i] * self.chans * block;
        let Some(node) = self.nodes[i].as_mut() else {
            return;
        };
        let buffers = &mut *self.buffers;
        let mut first = true;
        for f in &self.feeds[node.feeds.0 as usize..node.feeds.1 as usize] {
            mix_into(buffers, me, f.at[0] as usize, n, f.level, first);
            first = false;
        }
        if first {
            buffers[me..me + n].fill(0.0);
        }
        if node.resting {
            // At rest: it would leave its inputs' sum as it is.
            return;
        }
        node.module.process(&mut buffers[me..me + n]);
        if node.may_rest && self.shortcuts {
            node.resting = node.module.resting(false);
        }
    }

    /// [`Walk::process_node`] for any module: routes read (control and audio rate), both
    /// sides of a wide one, modules read by nothing or only at control rate moved on without
    /// rendering their audio where they can. Out of line: its frame is larger than the plain
    /// way's. Real-time thread.
    #[inline(never)]
    fn process_node_fully(&mut self, i: usize, n: usize, voices_end: bool) {
        let (block, chans) = (self.block, self.chans);
        let Some(node) = self.nodes[i].as_mut() else {
            return;
        };
        // Control-rate modulation: the first sample of each LFO's block.
        if node.routed {
            let (amounts, touched) = modulation(
                &node.desc.routes,
                |src| self.buffers[self.slots[src] * chans * block],
                |_| false,
            );
            for (p, &a) in amounts.iter().enumerate() {
                if touched & (1 << p) != 0 {
                    node.module.set_modulation(p as ParamId, a);
                }
            }
        }
        let me = self.slots[i] * chans * block;
        // Read by nothing: only moves on (one with no route was asked in the plain way, and
        // could not).
        if !node.read && node.routed && self.shortcuts && node.module.pass(n) {
            return;
        }
        if let Some(c) = node.heard_only_by {
            if !voices_end && self.pass_unheard(i, usize::from(c), n) {
                return;
            }
        }
        let Some(node) = self.nodes[i].as_mut() else {
            return;
        };
        if !node.audio_used {
            // Only read at control rate: skip the audio where the module can.
            if let Some(first) = node.module.skip(n) {
                self.buffers[me] = first;
                return;
            }
        }
        // The sum of the inputs (each at its level), straight into this module's own buffer.
        let Some(node) = self.nodes[i].as_ref() else {
            return;
        };
        let sides = if node.wide { 2 } else { 1 };
        let feeds = &self.feeds[node.feeds.0 as usize..node.feeds.1 as usize];
        for side in 0..sides {
            let dst = me + side * block;
            let mut first = true;
            for f in feeds {
                mix_into(
                    &mut *self.buffers,
                    dst,
                    f.at[side] as usize,
                    n,
                    f.level,
                    first,
                );
                first = false;
            }
            if first {
                self.buffers[dst..dst + n].fill(0.0);
            }
        }
        let Some(node) = self.nodes[i].as_mut() else {
            return;
        };
        if node.resting {
            // At rest: it would leave its inputs' sum as it is.
            return;
        }
        let driven = if !node.routed {
            [None; MAX_AUDIO_RATE]
        } else {
            fill_drive(
                &node.desc.routes,
                node.desc.kind.params(),
                (self.buffers, self.slots),
                (chans * block, block, n),
                self.drive,
            )
        };
        if node.wide {
            let (left, right) = self.buffers[me..me + 2 * block].split_at_mut(block);
            node.module
                .process_stereo(&mut left[..n], &mut right[..n], node.input_wide);
        } else if let Some(audio) = audio_mod(&driven, self.drive, block, n) {
            node.module
                .process_audio(&mut self.buffers[me..me + n], None, &audio);
        } else {
            node.module.process(&mut self.buffers[me..me + n]);
        }
        if node.may_rest && self.shortcuts && !node.routed {
            node.resting = node.module.resting(node.wide);
        }
    }

    /// Moves node `i` on by `n` samples without rendering them when `c`, the one module that
    /// hears it, ignores its input this block (an envelope at rest), and `i` can
    /// ([`crate::Module::pass`]); its slot is left as it was, which `c` does not hear. Never
    /// asked of a voices' end (the voices are added into its slot). Out of line: most blocks
    /// of most modules do not get here, and those that do need not slow the rest. Real-time
    /// thread.
    #[inline(never)]
    fn pass_unheard(&mut self, i: usize, c: usize, n: usize) -> bool {
        let nodes = &mut *self.nodes;
        let rests = nodes[c].as_ref().is_some_and(|c| c.module.ignores_input());
        rests && nodes[i].as_mut().is_some_and(|node| node.module.pass(n))
    }

    /// Renders the sounding voices of an instrument (`voices`: its pool; `lanes`: in lanes
    /// where they can be) into its template's last module's buffer (`end`; both sides when it
    /// is wide: the voices then end in a pan).
    fn process_voices(&mut self, voices: &mut VoicePool, lanes: bool, end: usize, n: usize) {
        if !voices.sounding() {
            return;
        }
        let (block, chans) = (self.block, self.chans);
        let wide = self.nodes[end].as_ref().is_some_and(|e| e.wide);
        // The head's audio-rate modulation, from modules outside the voices: the same signal
        // for every voice (each at its own pitch).
        let head = voices.template().first().copied();
        let driven = match head.and_then(|h| self.nodes.get(h.0 as usize)) {
            Some(Some(node)) => fill_drive(
                &node.desc.routes,
                node.desc.kind.params(),
                (self.buffers, self.slots),
                (chans * block, block, n),
                self.drive,
            ),
            _ => [None; MAX_AUDIO_RATE],
        };
        let audio = audio_mod(&driven, self.drive, block, n).unwrap_or_default();
        let (nodes, slots, buffers) = (&*self.nodes, self.slots, &mut *self.buffers);
        voices.set_lanes(lanes);
        // Split at the end's slot (no source of a modulation shares it: a module read by a
        // route keeps its slot to itself).
        let end = slots[end];
        let (before, rest) = buffers.split_at_mut(end * chans * block);
        let (dst, after) = rest.split_at_mut(chans * block);
        let mut amounts = [([0.0f32; MAX_PARAMS], 0u16); MAX_TEMPLATE];
        let chain = &voices.template()[..voices.chain_len()];
        let own = &voices.template()[voices.chain_len()..];
        // A voice's own sources (its envelopes, its note's velocity and key) are the voice's
        // to apply; the rest is the same for every voice.
        let local = |s: Source| match s {
            Source::Module(id) => own.contains(&id),
            Source::Velocity | Source::Key => true,
        };
        for (slot, id) in amounts.iter_mut().zip(chain) {
            if let Some(Some(node)) = nodes.get(id.0 as usize) {
                // A source's first sample, from whichever side of the split holds it.
                *slot = modulation(
                    &node.desc.routes,
                    |src| {
                        let src = slots[src];
                        if src < end {
                            before[src * chans * block]
                        } else if src > end {
                            after[(src - end - 1) * chans * block]
                        } else {
                            dst[0]
                        }
                    },
                    local,
                );
            }
        }
        if wide {
            let (left, right) = dst.split_at_mut(block);
            voices.render_into(&mut left[..n], Some(&mut right[..n]), &amounts, &audio);
        } else {
            voices.render_into(&mut dst[..n], None, &amounts, &audio);
        }
    }
}

/// Sums a module's audio-rate routes (`routes`, into its parameters `params`) sample by
/// sample into `drive`, a block per parameter, from the sources' blocks in `buffers` (each at
/// its slot in `at_slot`; `at`: a slot's stride in `buffers`, the block size, the samples to
/// fill). Returns the parameter of each block of `drive` (all `None`: no audio-rate route).
/// Real-time thread.
fn fill_drive(
    routes: &[Route],
    params: &[ParamSpec],
    (buffers, at_slot): (&[f32], &[usize]),
    (stride, block, n): (usize, usize, usize),
    drive: &mut [f32],
) -> [Option<ParamId>; MAX_AUDIO_RATE] {
    let mut slots = [None; MAX_AUDIO_RATE];
    for r in routes {
        let (Source::Module(src), Some(spec)) = (r.from, params.get(r.param as usize)) else {
            continue;
        };
        let ModScale::Audio(scale) = spec.modulation else {
            continue;
        };
        let (k, first) = match slots.iter().position(|s| *s == Some(r.param)) {
            Some(k) => (k, false),
            None => match slots.iter().position(Option::is_none) {
                Some(k) => {
                    slots[k] = Some(r.param);
                    (k, true)
                }
                None => continue,
            },
        };
        let from = &buffers[at_slot[src.0 as usize] * stride..][..n];
        let to = &mut drive[k * block..][..n];
        let gain = r.depth * scale;
        if first {
            to.iter_mut().zip(from).for_each(|(d, s)| *d = s * gain);
        } else {
            to.iter_mut().zip(from).for_each(|(d, s)| *d += s * gain);
        }
    }
    slots
}

/// The audio-rate modulation [`fill_drive`] left in `drive`, if any. Real-time thread.
fn audio_mod<'a>(
    slots: &[Option<ParamId>; MAX_AUDIO_RATE],
    drive: &'a [f32],
    block: usize,
    n: usize,
) -> Option<AudioMod<'a>> {
    let mut audio = AudioMod::default();
    for (k, slot) in slots.iter().enumerate() {
        if let Some(p) = slot {
            audio = audio.with(*p, &drive[k * block..][..n]);
        }
    }
    (!audio.is_empty()).then_some(audio)
}

/// Adds (or, when `first`, copies) `buffers[src..src + n]` times `level` into
/// `buffers[dst..dst + n]`. The two ranges are the same block (a module rendering in its first
/// input's slot: only when `first`; scaled there, the same product) or never overlap.
fn mix_into(buffers: &mut [f32], dst: usize, src: usize, n: usize, level: f32, first: bool) {
    if src == dst {
        debug_assert!(first, "only a first input shares its reader's slot");
        if level != 1.0 {
            buffers[dst..dst + n].iter_mut().for_each(|d| *d *= level);
        }
        return;
    }
    let (d, s) = if src < dst {
        let (a, b) = buffers.split_at_mut(dst);
        (&mut b[..n], &a[src..src + n])
    } else {
        let (a, b) = buffers.split_at_mut(src);
        (&mut a[dst..dst + n], &b[..n])
    };
    match (first, level == 1.0) {
        (true, true) => d.copy_from_slice(s),
        (true, false) => d.iter_mut().zip(s).for_each(|(d, s)| *d = s * level),
        (false, true) => d.iter_mut().zip(s).for_each(|(d, s)| *d += s),
        (false, false) => d.iter_mut().zip(s).for_each(|(d, s)| *d += s * level),
    }
}

/// The modulation of a module's parameters this block, per parameter, and a mask of the
/// parameters routed: for each route (but those `local` takes: a voice's own sources), the
/// first sample of its source module's block (`first(index)`) times the route's depth.
/// Velocity and key add nothing outside a voice (no note there).
fn modulation(
    routes: &[Route],
    first: impl Fn(usize) -> f32,
    local: impl Fn(Source) -> bool,
) -> ([f32; MAX_PARAMS], u16) {
    let mut amounts = [0.0f32; MAX_PARAMS];
    let mut touched = 0u16;
    for r in routes {
        if local(r.from) {
            continue;
        }
        if let Some(slot) = amounts.get_mut(r.param as usize) {
            if let Source::Module(id) = r.from {
                *slot += first(id.0 as usize) * r.depth;
            }
            touched |= 1 << r.param;
        }
    }
    (amounts, touched)
}
