//! ROC curves of several filters in one SVG, drawn like `spamtrace eval
//! --roc` draws one: the peer benchmark (`bench/peers.py --roc FILE`) feeds
//! it every filter's scores on the same test messages.
//!
//!     roc_plot TITLE OUT.svg < scores.tsv
//!
//! Input lines: `filter<TAB>score<TAB>spam|ham`; one curve per filter, in
//! the order the filters first appear. A higher score means more spam.
use spamtrace_classify::eval::{RocSeries, roc_svg};
use std::io::BufRead;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(title), Some(out)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: roc_plot TITLE OUT.svg < scores.tsv (filter<TAB>score<TAB>spam|ham)");
        std::process::exit(2);
    };
    let mut series: Vec<RocSeries> = Vec::new();
    for (n, line) in std::io::stdin().lock().lines().enumerate() {
        let line = line.expect("readable standard input");
        let fields: Vec<&str> = line.split('\t').collect();
        let [name, score, label] = fields[..] else {
            panic!("line {}: want filter<TAB>score<TAB>spam|ham", n + 1);
        };
        let score: f64 = score
            .parse()
            .unwrap_or_else(|_| panic!("line {}: score {score:?} is not a number", n + 1));
        let spam = match label {
            "spam" => true,
            "ham" => false,
            other => panic!("line {}: label {other:?} is neither spam nor ham", n + 1),
        };
        match series.iter_mut().find(|s| s.name == name) {
            Some(s) => s.points.push((score, spam)),
            None => series.push(RocSeries {
                name: name.to_string(),
                points: vec![(score, spam)],
            }),
        }
    }
    if series.is_empty() {
        eprintln!("roc_plot: no scores on standard input");
        std::process::exit(1);
    }
    std::fs::write(out, roc_svg(title, &series)).expect("the SVG written");
    for s in &series {
        eprintln!("{}: {} messages", s.name, s.points.len());
    }
}
