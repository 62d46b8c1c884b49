//! MIDI clock in: a tempo from 24 ticks a quarter note, smoothed.

/// Ticks the tempo is fitted to (four beats): a least-squares line through their times, so a
/// tick's jitter barely moves it (1 ms of jitter at 120 BPM: about 0.01 BPM).
const WINDOW: usize = 96;
/// Ticks needed before a tempo is told (one beat).
const FIRST: usize = 24;
/// The tempo is reported again only once it has moved this much (BPM).
const REPORT_STEP: f32 = 0.1;
/// Ticks further apart than this (seconds) are a clock that stopped: the fit starts over.
const GAP: f64 = 1.0;

/// Follows a MIDI clock's tempo from the samples its ticks arrive at.
#[derive(Debug, Clone)]
pub struct ClockFollower {
    sample_rate: f64,
    /// The latest ticks' samples, oldest first once full (a ring at `next`).
    ticks: [u64; WINDOW],
    count: usize,
    next: usize,
    reported: Option<f32>,
}

impl ClockFollower {
    /// A follower for a clock stamped in samples at `sample_rate`.
    pub fn new(sample_rate: f64) -> Self {
        ClockFollower {
            sample_rate,
            ticks: [0; WINDOW],
            count: 0,
            next: 0,
            reported: None,
        }
    }

    /// A tick at sample `at`. Returns the tempo (BPM, to 0.01) when it is first known (after
    /// a beat's ticks) and whenever it has moved by 0.1 BPM since last returned.
    pub fn tick(&mut self, at: u64) -> Option<f32> {
        if self.count > 0 {
            let last = self.ticks[(self.next + WINDOW - 1) % WINDOW];
            let gap = at.saturating_sub(last) as f64;
            if at <= last || gap > GAP * self.sample_rate {
                self.count = 0;
            }
        }
        self.ticks[self.next] = at;
        self.next = (self.next + 1) % WINDOW;
        self.count = (self.count + 1).min(WINDOW);
        if self.count < FIRST {
            return None;
        }
        let spacing = self.fitted_spacing()?;
        let bpm = (60.0 * self.sample_rate / (24.0 * spacing) * 100.0).round() as f32 / 100.0;
        match self.reported {
            Some(r) if (bpm - r).abs() < REPORT_STEP => None,
            _ => {
                self.reported = Some(bpm);
                Some(bpm)
            }
        }
    }

    /// Samples between ticks: the slope of the least-squares line through the ticks held.
    fn fitted_spacing(&self) -> Option<f64> {
        let n = self.count;
        let first = (self.next + WINDOW - n) % WINDOW;
        let origin = self.ticks[first];
        let (mut sx, mut sy, mut sxx, mut sxy) = (0.0, 0.0, 0.0, 0.0);
        for i in 0..n {
            let x = i as f64;
            let y = (self.ticks[(first + i) % WINDOW] - origin) as f64;
            sx += x;
            sy += y;
            sxx += x * x;
            sxy += x * y;
        }
        let nf = n as f64;
        let slope = (nf * sxy - sx * sy) / (nf * sxx - sx * sx);
        (slope.is_finite() && slope > 0.0).then_some(slope)
    }

    /// The tempo last returned.
    pub fn tempo(&self) -> Option<f32> {
        self.reported
    }
}
