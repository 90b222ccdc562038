#pragma once
// A sweep's trade-off as a chart: per setting, the distance of its images to the baseline images of
// the same seeds (across) against the responsibility metric (up; lower is better for both), the
// Pareto front joined. The points come from core (report::tradeoff); this only draws them.
#include <QtCharts/QChartView>
#include <vector>

#include "core/respo/fairness_summary.h"

namespace respo::ui {

class TradeoffChart : public QChartView {
  Q_OBJECT
 public:
  explicit TradeoffChart(QWidget* parent = nullptr);
  void show(const std::vector<respo::report::TradeoffPoint>& points, const QString& metric);
  void clear();
  // What is drawn now (for tests): all points, and those on the front.
  int pointCount() const { return points_; }
  int frontCount() const { return front_; }

 private:
  int points_ = 0, front_ = 0;
};

}  // namespace respo::ui
