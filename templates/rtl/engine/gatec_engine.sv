// The engine core (docs/engine.md): instruction fetch and in-order issue to two units (DMA,
// compute), the four on-chip buffers, the conv and pool/eltwise units sharing the requant bank
// and output writer, and one memory port towards DRAM outside the DUT.
module gatec_engine #(
  parameter int unsigned PeOc        = 8,
  parameter int unsigned PeIc        = 8,
  parameter int unsigned BusBytes    = 16,
  parameter int unsigned InBufBytes  = 65536,
  parameter int unsigned WBufBytes   = 65536,
  parameter int unsigned OutBufBytes = 65536,
  parameter int unsigned ParamRows   = 64,
  parameter int unsigned FetchDepth  = 16,
  parameter int unsigned SkipLanes   = 4,
  parameter int unsigned SkipTaps    = 1024
) (
  input  logic                    clk_i,
  input  logic                    rst_ni,
  input  logic                    start_i,
  input  logic [31:0]             prog_addr_i,
  input  logic [31:0]             prog_len_i,
  output logic                    busy_o,
  output logic                    done_o,
  output logic [15:0]             layer_tag_o,
  // conv taps found in zero blocks this cycle (no MAC executed), and their instruction's tag
  output logic [$clog2(SkipLanes+1)-1:0] zero_taps_o,
  output logic [15:0]             zero_tag_o,
  // gated-on output activations (one per cycle at most) of the CONV tagged zero_tag_o
  output logic                    gate_on_o,
  output logic                    rd_req_valid_o,
  input  logic                    rd_req_ready_i,
  output logic [31:0]             rd_req_addr_o,
  output logic [15:0]             rd_req_beats_o,
  output logic                    rd_req_id_o,
  output logic [15:0]             rd_req_tag_o,
  input  logic                    rd_data_valid_i,
  output logic                    rd_data_ready_o,
  input  logic [BusBytes*8-1:0]   rd_data_i,
  input  logic                    rd_data_id_i,
  input  logic                    rd_data_last_i,
  output logic                    wr_req_valid_o,
  input  logic                    wr_req_ready_i,
  output logic [31:0]             wr_req_addr_o,
  output logic [15:0]             wr_req_beats_o,
  output logic [15:0]             wr_req_tag_o,
  output logic                    wr_data_valid_o,
  input  logic                    wr_data_ready_i,
  output logic [BusBytes*8-1:0]   wr_data_o,
  output logic                    wr_data_last_o
);
  localparam int unsigned B    = BusBytes;
  localparam int unsigned L    = PeIc;
  localparam int unsigned Wa   = (B > L) ? B : L;
  localparam int unsigned WW   = PeOc * PeIc;
  localparam int unsigned Ww   = (B > WW) ? B : WW;
  localparam int unsigned Wp   = (B > 8 * PeOc) ? B : 8 * PeOc;
  localparam int unsigned WMax = (Wa > Ww) ? ((Wa > Wp) ? Wa : Wp) : ((Ww > Wp) ? Ww : Wp);
  localparam int unsigned Lanes = (PeOc > L) ? PeOc : L;
  localparam int unsigned InRows  = InBufBytes / Wa;
  localparam int unsigned WRows   = WBufBytes / Ww;
  localparam int unsigned OutRows = OutBufBytes / Wa;
  localparam int unsigned WprA = Wa / L;
  localparam int unsigned WprW = Ww / WW;
  localparam int unsigned InRowW  = $clog2(InRows);
  localparam int unsigned WRowW   = $clog2(WRows);
  localparam int unsigned OutRowW = $clog2(OutRows);
  localparam int unsigned PRowW   = (ParamRows > 1) ? $clog2(ParamRows) : 1;
  localparam int unsigned SlotAW  = (WprA > 1) ? $clog2(WprA) : 1;
  localparam int unsigned SlotWW  = (WprW > 1) ? $clog2(WprW) : 1;
  localparam int unsigned InWordW  = InRowW + $clog2(WprA);
  localparam int unsigned WWordW   = WRowW + $clog2(WprW);
  localparam int unsigned OutWordW = OutRowW + $clog2(WprA);
  localparam int unsigned LaneIdxWidth = (L > 1) ? $clog2(L) : 1;
  localparam int unsigned WordCntWidth = $clog2(((PeOc > L) ? PeOc / L : 1) + 1);
  // bitmap buffers of the zero-block decoder and encoder: a 32nd of their data buffer
  localparam int unsigned InBmBytes  = (InBufBytes / 32 > 2 * B) ? InBufBytes / 32 : 2 * B;
  localparam int unsigned OutBmBytes = (OutBufBytes / 32 > 2 * B) ? OutBufBytes / 32 : 2 * B;
  localparam int unsigned DmaRowW = (InRowW > WRowW) ? ((InRowW > PRowW) ? InRowW : PRowW)
                                                     : ((WRowW > PRowW) ? WRowW : PRowW);

  localparam logic [3:0] OpEnd = 4'd0, OpLoad = 4'd1, OpStore = 4'd2, OpConv = 4'd3,
                         OpPool = 4'd4, OpAdd = 4'd5;

  // ---------------------------------------------------------------- fetch and issue
  logic         f_req_valid, f_req_ready, f_data_valid, instr_valid, pop;
  logic [31:0]  f_req_addr;
  logic [15:0]  f_req_beats;
  logic [511:0] instr;

  gatec_fetch #(.B(B), .FetchDepth(FetchDepth)) u_fetch (
    .clk_i, .rst_ni, .start_i, .prog_addr_i, .prog_len_i,
    .req_valid_o (f_req_valid), .req_ready_i (f_req_ready), .req_addr_o (f_req_addr),
    .req_beats_o (f_req_beats), .data_valid_i (f_data_valid), .data_i (rd_data_i),
    .data_last_i (rd_data_last_i), .instr_valid_o (instr_valid), .instr_o (instr), .pop_i (pop)
  );

  logic running_q, done_q;
  logic [15:0] tag_q, dma_tag_q;
  logic dma_busy, cmp_busy, rd_busy, wr_busy, conv_busy, pool_busy, can_issue;
  logic [3:0] op;
  logic wait_dma, wait_cmp;
  assign op       = instr[3:0];
  assign wait_dma = instr[4];
  assign wait_cmp = instr[5];
  assign dma_busy = rd_busy || wr_busy;
  assign cmp_busy = conv_busy || pool_busy;

  always_comb begin
    unique case (op)
      OpLoad, OpStore:      can_issue = !dma_busy && !(wait_cmp && cmp_busy);
      OpConv, OpPool, OpAdd: can_issue = !cmp_busy && !(wait_dma && dma_busy);
      OpEnd:                can_issue = !dma_busy && !cmp_busy;
      default:              can_issue = 1'b1;
    endcase
  end
  assign pop = running_q && instr_valid && can_issue;

  logic rd_start, wr_start, conv_start, pool_start;
  assign rd_start   = pop && (op == OpLoad);
  assign wr_start   = pop && (op == OpStore);
  assign conv_start = pop && (op == OpConv);
  assign pool_start = pop && (op == OpPool || op == OpAdd);

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      running_q <= 1'b0;
      done_q    <= 1'b0;
      tag_q     <= '0;
      dma_tag_q <= '0;
    end else if (start_i) begin
      running_q <= 1'b1;
      done_q    <= 1'b0;
      tag_q     <= '0;
    end else if (pop) begin
      tag_q <= instr[31:16];
      if (op == OpLoad || op == OpStore) dma_tag_q <= instr[31:16];
      if (op == OpEnd) begin
        running_q <= 1'b0;
        done_q    <= 1'b1;
      end
    end
  end
  assign busy_o      = running_q;
  assign done_o      = done_q;
  assign layer_tag_o = tag_q;

  // ---------------------------------------------------------------- memory port
  logic d_req_valid, d_req_ready, d_data_valid;
  logic [31:0] d_req_addr;
  logic [15:0] d_req_beats;
  logic sel_fetch_q, sel_fetch, locked_q;

  // A presented request stays until accepted; otherwise fetch goes first (short bursts).
  assign sel_fetch      = locked_q ? sel_fetch_q : f_req_valid;
  assign rd_req_valid_o = sel_fetch ? f_req_valid : d_req_valid;
  assign rd_req_addr_o  = sel_fetch ? f_req_addr : d_req_addr;
  assign rd_req_beats_o = sel_fetch ? f_req_beats : d_req_beats;
  assign rd_req_id_o    = sel_fetch;
  assign rd_req_tag_o   = sel_fetch ? 16'hFFFF : dma_tag_q;
  assign f_req_ready    = sel_fetch && rd_req_ready_i;
  assign d_req_ready    = !sel_fetch && rd_req_ready_i;
  assign rd_data_ready_o = 1'b1;
  assign f_data_valid   = rd_data_valid_i && rd_data_id_i;
  assign d_data_valid   = rd_data_valid_i && !rd_data_id_i;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      locked_q    <= 1'b0;
      sel_fetch_q <= 1'b0;
    end else begin
      locked_q    <= rd_req_valid_o && !rd_req_ready_i;
      sel_fetch_q <= sel_fetch;
    end
  end

  // ---------------------------------------------------------------- DMA
  logic in_we, in_zero, w_we, p_we;
  logic [DmaRowW-1:0] dma_row;
  logic [WMax*8-1:0] dma_row_data;

  gatec_dma_rd #(.B(B), .Wa(Wa), .Ww(Ww), .Wp(Wp), .RowAddrWidth(DmaRowW), .BmBytes(InBmBytes)) u_dma_rd (
    .clk_i, .rst_ni, .start_i (rd_start), .instr_i (instr), .busy_o (rd_busy),
    .req_valid_o (d_req_valid), .req_ready_i (d_req_ready), .req_addr_o (d_req_addr),
    .req_beats_o (d_req_beats), .data_valid_i (d_data_valid), .data_i (rd_data_i),
    .data_last_i (rd_data_last_i), .in_we_o (in_we), .in_zero_o (in_zero), .w_we_o (w_we), .p_we_o (p_we),
    .row_o (dma_row), .row_data_o (dma_row_data)
  );

  logic out_re;
  logic [OutRowW-1:0] out_raddr;
  logic [Wa*8-1:0] out_rdata;

  gatec_dma_wr #(.B(B), .Wa(Wa), .L(L), .RowAddrWidth(OutRowW), .BmBytes(OutBmBytes)) u_dma_wr (
    .clk_i, .rst_ni, .start_i (wr_start), .instr_i (instr), .busy_o (wr_busy),
    .req_valid_o (wr_req_valid_o), .req_ready_i (wr_req_ready_i), .req_addr_o (wr_req_addr_o),
    .req_beats_o (wr_req_beats_o), .data_valid_o (wr_data_valid_o), .data_ready_i (wr_data_ready_i),
    .data_o (wr_data_o), .data_last_o (wr_data_last_o), .re_o (out_re), .raddr_o (out_raddr),
    .rdata_i (out_rdata)
  );
  assign wr_req_tag_o = dma_tag_q;

  // ---------------------------------------------------------------- buffers
  logic in_re, w_re, p_re;
  logic [InWordW-1:0] in_addr;
  logic [WWordW-1:0] w_addr;
  logic [PRowW-1:0] p_addr;
  logic [Wa*8-1:0] in_row;
  logic [Ww*8-1:0] w_row;
  // parameter rows are padded to the bus width; only the first 8*PeOc bytes hold parameters
  /* verilator lint_off UNUSEDSIGNAL */
  logic [Wp*8-1:0] p_row;
  /* verilator lint_on UNUSEDSIGNAL */
  logic [L*8-1:0] in_word, in_word2;
  logic [WW*8-1:0] w_word;

  gatec_ram #(.RowBytes(Wa), .Rows(InRows)) u_in_buf (
    .clk_i, .we_i (in_we), .waddr_i (InRowW'(dma_row)), .wbe_i ('1), .wdata_i (dma_row_data[Wa*8-1:0]),
    .re_i (in_re), .raddr_i (InRowW'(in_addr >> $clog2(WprA))), .rdata_o (in_row)
  );
  gatec_ram #(.RowBytes(Ww), .Rows(WRows)) u_w_buf (
    .clk_i, .we_i (w_we), .waddr_i (WRowW'(dma_row)), .wbe_i ('1), .wdata_i (dma_row_data[Ww*8-1:0]),
    .re_i (w_re), .raddr_i (WRowW'(w_addr >> $clog2(WprW))), .rdata_o (w_row)
  );
  gatec_ram #(.RowBytes(Wp), .Rows(ParamRows)) u_p_buf (
    .clk_i, .we_i (p_we), .waddr_i (PRowW'(dma_row)), .wbe_i ('1), .wdata_i (dma_row_data[Wp*8-1:0]),
    .re_i (p_re), .raddr_i (p_addr), .rdata_o (p_row)
  );

  // word select within a row, one cycle after the read
  if (WprA > 1) begin : g_in_slot
    logic [SlotAW-1:0] slot_q;
    always_ff @(posedge clk_i) if (in_re) slot_q <= SlotAW'(in_addr);
    assign in_word = in_row[$clog2(Wa*8)'({slot_q, $clog2(L*8)'(0)}) +: L*8];
    // the word after it in the same row (gate mode's load walker takes two at once); the last
    // slot has none
    logic [SlotAW-1:0] slot1;
    assign slot1 = slot_q + SlotAW'(1);
    assign in_word2 = in_row[$clog2(Wa*8)'({slot1, $clog2(L*8)'(0)}) +: L*8];
  end else begin : g_in_row
    assign in_word = in_row;
    assign in_word2 = '0;
  end
  if (WprW > 1) begin : g_w_slot
    logic [SlotWW-1:0] slot_q;
    always_ff @(posedge clk_i) if (w_re) slot_q <= SlotWW'(w_addr);
    assign w_word = w_row[$clog2(Ww*8)'({slot_q, $clog2(WW*8)'(0)}) +: WW*8];
  end else begin : g_w_row
    assign w_word = w_row;
  end

  logic out_we;
  logic [OutWordW-1:0] out_waddr;
  logic [L-1:0] out_wbe;
  logic [L*8-1:0] out_wdata;
  logic [SlotAW-1:0] out_slot;
  assign out_slot = (WprA > 1) ? SlotAW'(out_waddr) : '0;

  gatec_ram #(.RowBytes(Wa), .Rows(OutRows), .ByteEnable(1'b1)) u_out_buf (
    .clk_i, .we_i (out_we), .waddr_i (OutRowW'(out_waddr >> $clog2(WprA))),
    .wbe_i (Wa'(out_wbe) << {out_slot, $clog2(L)'(0)}),
    .wdata_i ((Wa*8)'(out_wdata) << {out_slot, $clog2(L*8)'(0)}),
    .re_i (out_re), .raddr_i (out_raddr), .rdata_o (out_rdata)
  );

  // ---------------------------------------------------------------- compute units
  logic c_in_re, p_in_re;
  logic [InWordW-1:0] c_in_addr, p_in_addr;
  logic c_res_valid, p_res_valid, writer_busy;
  logic [PeOc*32-1:0] c_res_acc;
  logic [PeOc*15-1:0] c_res_mult;
  logic [PeOc*6-1:0]  c_res_shift;
  logic [OutWordW-1:0] c_res_addr, p_res_addr;
  logic [WordCntWidth-1:0] c_res_words;
  logic [OutWordW-1:0] c_res_stride;
  logic [LaneIdxWidth-1:0] c_res_lane;
  logic signed [7:0] c_zp, c_lo, c_hi, p_zp, p_lo, p_hi;
  logic [L*32-1:0] p_res_acc;
  logic [14:0] p_res_mult;
  logic [5:0]  p_res_shift;

  gatec_conv_unit #(
    .PeOc (PeOc), .L (L), .InAddrWidth (InWordW), .WAddrWidth (WWordW), .PAddrWidth (PRowW),
    .OutAddrWidth (OutWordW), .WordsPerRow (WprA), .FlagRows (InRows), .SkipLanes (SkipLanes),
    .SkipTaps (SkipTaps), .MaxGroups ((ParamRows / 2 > 256) ? 256 : ((ParamRows / 2 > 0) ? ParamRows / 2 : 1))
  ) u_conv (
    .clk_i, .rst_ni, .start_i (conv_start), .instr_i (instr), .busy_o (conv_busy),
    .in_re_o (c_in_re), .in_addr_o (c_in_addr), .in_word_i (in_word), .in_word2_i (in_word2),
    .w_re_o (w_re), .w_addr_o (w_addr), .w_word_i (w_word),
    .p_re_o (p_re), .p_addr_o (p_addr), .p_row_i (p_row[PeOc*64-1:0]),
    .wr_busy_i (writer_busy), .res_valid_o (c_res_valid), .res_acc_o (c_res_acc),
    .res_mult_o (c_res_mult), .res_shift_o (c_res_shift), .res_addr_o (c_res_addr),
    .res_words_o (c_res_words), .res_stride_o (c_res_stride), .res_lane_o (c_res_lane), .zp_out_o (c_zp), .lo_o (c_lo),
    .hi_o (c_hi), .zf_we_i (in_we), .zf_waddr_i (InRowW'(dma_row)), .zf_wdata_i (in_zero),
    .zero_taps_o, .tag_o (zero_tag_o), .gate_on_o
  );

  gatec_pool_unit #(.L (L), .InAddrWidth (InWordW), .OutAddrWidth (OutWordW)) u_pool (
    .clk_i, .rst_ni, .start_i (pool_start), .instr_i (instr), .busy_o (pool_busy),
    .in_re_o (p_in_re), .in_addr_o (p_in_addr), .in_word_i (in_word),
    .wr_busy_i (writer_busy), .res_valid_o (p_res_valid), .res_acc_o (p_res_acc),
    .res_mult_o (p_res_mult), .res_shift_o (p_res_shift), .res_addr_o (p_res_addr),
    .zp_out_o (p_zp), .lo_o (p_lo), .hi_o (p_hi)
  );

  assign in_re   = c_in_re || p_in_re;
  assign in_addr = conv_busy ? c_in_addr : p_in_addr;

  // the writer takes the conv unit's PeOc results or the pool unit's L lanes
  logic [Lanes*32-1:0] wr_acc;
  logic [Lanes*15-1:0] wr_mult;
  logic [Lanes*6-1:0]  wr_shift;
  always_comb begin
    wr_acc   = '0;
    wr_mult  = '0;
    wr_shift = '0;
    if (conv_busy) begin
      wr_acc[PeOc*32-1:0]  = c_res_acc;
      wr_mult[PeOc*15-1:0] = c_res_mult;
      wr_shift[PeOc*6-1:0] = c_res_shift;
    end else begin
      wr_acc[L*32-1:0] = p_res_acc;
      for (int unsigned i = 0; i < L; i++) begin
        wr_mult[i*15 +: 15] = p_res_mult;
        wr_shift[i*6 +: 6]  = p_res_shift;
      end
    end
  end

  gatec_out_writer #(
    .Lanes (Lanes), .L (L), .PartLanes ((PeOc < L) ? PeOc : L), .AddrWidth (OutWordW)
  ) u_writer (
    .clk_i, .rst_ni,
    .valid_i   (c_res_valid || p_res_valid),
    .acc_i     (wr_acc),
    .mult_i    (wr_mult),
    .shift_i   (wr_shift),
    .zp_i      (conv_busy ? c_zp : p_zp),
    .lo_i      (conv_busy ? c_lo : p_lo),
    .hi_i      (conv_busy ? c_hi : p_hi),
    .addr_i    (conv_busy ? c_res_addr : p_res_addr),
    .words_i   (conv_busy ? c_res_words : WordCntWidth'(1)),
    .stride_i  (c_res_stride),
    .partial_i (conv_busy && (PeOc < L)),
    .lane_i    (conv_busy ? c_res_lane : '0),
    .busy_o    (writer_busy),
    .we_o      (out_we),
    .waddr_o   (out_waddr),
    .wbe_o     (out_wbe),
    .wdata_o   (out_wdata)
  );
endmodule
