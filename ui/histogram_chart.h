#pragma once
// One prompt's class counts of one attribute, without and with the concepts, as grouped bars (the
// fairness report's per-prompt histogram).
#include <QtCharts/QChartView>
#include <vector>

#include "core/respo/fairness_summary.h"

namespace respo::ui {

class HistogramChart : public QChartView {
  Q_OBJECT
 public:
  explicit HistogramChart(QWidget* parent = nullptr);
  void show(const QString& title, const respo::report::AttributeCounts& counts);
  // What the bars show now (for tests and the export).
  const std::vector<int>& before() const { return before_; }
  const std::vector<int>& after() const { return after_; }

 private:
  std::vector<int> before_, after_;
};

}  // namespace respo::ui
