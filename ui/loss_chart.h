#pragma once
// The training losses against the step: L_resp and L_sem on a log axis (they differ by orders of
// magnitude). A zero loss is drawn at 1e-12 so a perfect step stays visible.
#include <QtCharts/QChartView>

class QLineSeries;
class QLogValueAxis;
class QValueAxis;

namespace respo::ui {

class LossChart : public QChartView {
  Q_OBJECT
 public:
  explicit LossChart(QWidget* parent = nullptr);
  void clear(int totalSteps);
  void add(int step, double responsible, double semantic);
  int points() const;

 private:
  QLineSeries* responsible_ = nullptr;
  QLineSeries* semantic_ = nullptr;
  QValueAxis* steps_ = nullptr;
  QLogValueAxis* loss_ = nullptr;
  double low_ = 1e30, high_ = 0;
};

}  // namespace respo::ui
